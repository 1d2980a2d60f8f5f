using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels;

/// <summary>
/// The loops that run the operators: the widest allowed vector takes the bulk, each narrower width the
/// remainder it can, and a scalar loop the last elements. Tails are never handled by re-running an
/// overlapping vector, because the in-place operations (dst aliasing an input) must touch each element once.
/// </summary>
public static partial class Ops
{
    private static void Map1<TOp>(ReadOnlySpan<float> x, Span<float> dst, TOp op, SimdWidth width)
        where TOp : struct, IUnaryOperator
    {
        int n = x.Length;
        ref float xs = ref Ref(x);
        ref float ds = ref Ref(dst);
        int i = 0;
        if (width >= SimdWidth.V512 && Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                op.Invoke(Vector512.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
            }
        }

        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                op.Invoke(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
            }
        }

        if (width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                op.Invoke(Vector128.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref ds, i) = op.Invoke(Unsafe.Add(ref xs, i));
        }
    }

    private static void Map2<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst, TOp op, SimdWidth width)
        where TOp : struct, IBinaryOperator
    {
        int n = a.Length;
        ref float ar = ref Ref(a);
        ref float br = ref Ref(b);
        ref float ds = ref Ref(dst);
        int i = 0;
        if (width >= SimdWidth.V512 && Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                op.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
            }
        }

        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                op.Invoke(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
            }
        }

        if (width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                op.Invoke(Vector128.LoadUnsafe(ref ar, (nuint)i), Vector128.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref ds, i) = op.Invoke(Unsafe.Add(ref ar, i), Unsafe.Add(ref br, i));
        }
    }

    /// <summary>Σ a[i]·b[i]; lengths already checked. Four independent accumulators hide the FMA latency.</summary>
    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, SimdWidth width)
    {
        int n = a.Length;
        ref float ar = ref Ref(a);
        ref float br = ref Ref(b);
        int i = 0;
        float sum = 0;
        if (width >= SimdWidth.V512 && Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - (2 * Vector512<float>.Count); i += 2 * Vector512<float>.Count)
            {
                acc0 = Simd.MulAdd(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i), acc0);
                acc1 = Simd.MulAdd(Vector512.LoadUnsafe(ref ar, (nuint)(i + 16)), Vector512.LoadUnsafe(ref br, (nuint)(i + 16)), acc1);
            }

            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                acc0 = Simd.MulAdd(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i), acc0);
            }

            sum += Vector512.Sum(acc0 + acc1);
        }

        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated && n - i >= Vector256<float>.Count)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            var acc2 = Vector256<float>.Zero;
            var acc3 = Vector256<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                acc0 = Simd.MulAdd(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i), acc0);
                acc1 = Simd.MulAdd(Vector256.LoadUnsafe(ref ar, (nuint)(i + 8)), Vector256.LoadUnsafe(ref br, (nuint)(i + 8)), acc1);
                acc2 = Simd.MulAdd(Vector256.LoadUnsafe(ref ar, (nuint)(i + 16)), Vector256.LoadUnsafe(ref br, (nuint)(i + 16)), acc2);
                acc3 = Simd.MulAdd(Vector256.LoadUnsafe(ref ar, (nuint)(i + 24)), Vector256.LoadUnsafe(ref br, (nuint)(i + 24)), acc3);
            }

            for (; i <= n - 8; i += 8)
            {
                acc0 = Simd.MulAdd(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i), acc0);
            }

            sum += Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
        }

        if (width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated && n - i >= Vector128<float>.Count)
        {
            var acc0 = Vector128<float>.Zero;
            var acc1 = Vector128<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                acc0 = Simd.MulAdd(Vector128.LoadUnsafe(ref ar, (nuint)i), Vector128.LoadUnsafe(ref br, (nuint)i), acc0);
                acc1 = Simd.MulAdd(Vector128.LoadUnsafe(ref ar, (nuint)(i + 4)), Vector128.LoadUnsafe(ref br, (nuint)(i + 4)), acc1);
            }

            for (; i <= n - 4; i += 4)
            {
                acc0 = Simd.MulAdd(Vector128.LoadUnsafe(ref ar, (nuint)i), Vector128.LoadUnsafe(ref br, (nuint)i), acc0);
            }

            sum += Vector128.Sum(acc0 + acc1);
        }

        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref ar, i) * Unsafe.Add(ref br, i);
        }

        return sum;
    }

    /// <summary>The largest element (negative infinity for an empty span).</summary>
    internal static float Max(ReadOnlySpan<float> x, SimdWidth width)
    {
        int n = x.Length;
        ref float xs = ref Ref(x);
        int i = 0;
        float max = float.NegativeInfinity;
        if (width >= SimdWidth.V512 && Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var acc = Vector512.Create(float.NegativeInfinity);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                acc = Vector512.Max(acc, Vector512.LoadUnsafe(ref xs, (nuint)i));
            }

            max = MathF.Max(max, Simd.HorizontalMax(Vector256.Max(acc.GetLower(), acc.GetUpper())));
        }

        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated && n - i >= Vector256<float>.Count)
        {
            var acc = Vector256.Create(float.NegativeInfinity);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                acc = Vector256.Max(acc, Vector256.LoadUnsafe(ref xs, (nuint)i));
            }

            max = MathF.Max(max, Simd.HorizontalMax(acc));
        }

        if (width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated && n - i >= Vector128<float>.Count)
        {
            var acc = Vector128.Create(float.NegativeInfinity);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                acc = Vector128.Max(acc, Vector128.LoadUnsafe(ref xs, (nuint)i));
            }

            max = MathF.Max(max, Simd.HorizontalMax(acc));
        }

        for (; i < n; i++)
        {
            max = MathF.Max(max, Unsafe.Add(ref xs, i));
        }

        return max;
    }

    /// <summary><c>x[i] = exp(x[i] - max)</c>, returning the sum of the new values.</summary>
    internal static float ExpSubtract(Span<float> x, float max, SimdWidth width)
    {
        int n = x.Length;
        ref float xs = ref Ref(x);
        int i = 0;
        float sum = 0;
        if (width >= SimdWidth.V512 && Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var acc = Vector512<float>.Zero;
            var vmax = Vector512.Create(max);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var e = Vector512.Exp(Vector512.LoadUnsafe(ref xs, (nuint)i) - vmax);
                e.StoreUnsafe(ref xs, (nuint)i);
                acc += e;
            }

            sum += Vector512.Sum(acc);
        }

        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated && n - i >= Vector256<float>.Count)
        {
            var acc = Vector256<float>.Zero;
            var vmax = Vector256.Create(max);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var e = Vector256.Exp(Vector256.LoadUnsafe(ref xs, (nuint)i) - vmax);
                e.StoreUnsafe(ref xs, (nuint)i);
                acc += e;
            }

            sum += Vector256.Sum(acc);
        }

        if (width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated && n - i >= Vector128<float>.Count)
        {
            var acc = Vector128<float>.Zero;
            var vmax = Vector128.Create(max);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var e = Vector128.Exp(Vector128.LoadUnsafe(ref xs, (nuint)i) - vmax);
                e.StoreUnsafe(ref xs, (nuint)i);
                acc += e;
            }

            sum += Vector128.Sum(acc);
        }

        for (; i < n; i++)
        {
            float e = MathF.Exp(Unsafe.Add(ref xs, i) - max);
            Unsafe.Add(ref xs, i) = e;
            sum += e;
        }

        return sum;
    }

    internal static int ArgMax(ReadOnlySpan<float> x, SimdWidth width)
    {
        if (width == SimdWidth.Scalar)
        {
            int best = 0;
            for (int j = 1; j < x.Length; j++)
            {
                if (x[j] > x[best])
                {
                    best = j;
                }
            }

            return best;
        }

        // Two passes: the vector maximum, then the first index holding it.
        float max = Max(x, width);
        int n = x.Length;
        ref float xs = ref Ref(x);
        int i = 0;
        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated)
        {
            var vmax = Vector256.Create(max);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                uint mask = Vector256.Equals(Vector256.LoadUnsafe(ref xs, (nuint)i), vmax).ExtractMostSignificantBits();
                if (mask != 0)
                {
                    return i + System.Numerics.BitOperations.TrailingZeroCount(mask);
                }
            }
        }

        for (; i < n; i++)
        {
            if (Unsafe.Add(ref xs, i) == max)
            {
                return i;
            }
        }

        return 0;
    }
}
