using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Train.Layers;

/// <summary>Vector256 dot and axpy over short float runs (head vectors, norm rows).</summary>
internal static unsafe class VecMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        var acc = Vector256<float>.Zero;
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
        }

        var s = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    /// <summary>y += alpha · x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float alpha, float* x, float* y, int n)
    {
        var va = Vector256.Create(alpha);
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            Vector256.FusedMultiplyAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        }

        for (; i < n; i++)
        {
            y[i] += alpha * x[i];
        }
    }

    /// <summary>Runs body(i) for i in [0, n) in chunks on the thread pool when n·costPerItem is large enough.</summary>
    public static void For(int n, int costPerItem, Action<int, int> body)
    {
        if ((long)n * costPerItem < 1 << 16 || Environment.ProcessorCount == 1)
        {
            body(0, n);
            return;
        }

        var chunks = Math.Min(n, Environment.ProcessorCount * 4);
        Parallel.For(0, chunks, c => body((int)((long)n * c / chunks), (int)((long)n * (c + 1) / chunks)));
    }
}
