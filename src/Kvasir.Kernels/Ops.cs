using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kvasir.Kernels;

/// <summary>
/// Elementwise operations and reductions over float spans (the non-matmul part of a transformer layer).
/// Each operation is written once as an operator (<c>Ops.Operators.cs</c>) and run by a driver that
/// dispatches Vector512 → Vector256 → Vector128 → scalar (<c>Ops.Drivers.cs</c>). The scalar path is the
/// reference the tests hold the vector paths to.
/// </summary>
/// <remarks>
/// Where a method says two spans "may alias", they may be the very same memory; partially overlapping
/// spans (one shifted against the other) are not supported.
/// </remarks>
public static partial class Ops
{
    /// <summary>
    /// Root-mean-square normalisation, as llama.cpp's <c>rms_norm</c> followed by its multiply:
    /// <c>y[i] = (x[i] * (1 / sqrt(mean(x²) + eps))) * weight[i]</c>.
    /// </summary>
    /// <param name="x">Input vector [n].</param>
    /// <param name="weight">Per-element gain [n].</param>
    /// <param name="y">Output [n]; may alias <paramref name="x"/>.</param>
    /// <param name="eps">Added to the mean square before the square root (the model's rms_norm_eps).</param>
    /// <exception cref="ArgumentException">The three lengths differ.</exception>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, float eps) =>
        RmsNorm(x, weight, y, eps, Simd.Best);

    /// <summary>Elementwise sum: <c>dst[i] = a[i] + b[i]</c>. <paramref name="dst"/> may alias either input.</summary>
    /// <exception cref="ArgumentException">The three lengths differ.</exception>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) =>
        Add(a, b, dst, Simd.Best);

    /// <summary>Elementwise product: <c>dst[i] = a[i] * b[i]</c>. <paramref name="dst"/> may alias either input.</summary>
    /// <exception cref="ArgumentException">The three lengths differ.</exception>
    public static void Mul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) =>
        Mul(a, b, dst, Simd.Best);

    /// <summary>Scales in place: <c>x[i] *= factor</c>.</summary>
    public static void Scale(Span<float> x, float factor) => Scale(x, factor, Simd.Best);

    /// <summary>
    /// The SwiGLU feed-forward gate: <c>dst[i] = silu(gate[i]) * up[i]</c> with
    /// <c>silu(g) = g / (1 + exp(-g))</c>. <paramref name="dst"/> may alias either input.
    /// </summary>
    /// <exception cref="ArgumentException">The three lengths differ.</exception>
    public static void SwiGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> dst) =>
        SwiGlu(gate, up, dst, Simd.Best);

    /// <summary>
    /// Softmax in place, with the maximum subtracted first so that no exponent overflows:
    /// <c>x[i] = exp(x[i] - max) / Σ exp(x[j] - max)</c>. An empty span is left as is.
    /// </summary>
    public static void Softmax(Span<float> x) => Softmax(x, Simd.Best);

    /// <summary>Dot product <c>Σ a[i] * b[i]</c>, accumulated in float across several vector lanes.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        CheckSameLength(a.Length, b.Length, nameof(b));
        return Dot(a, b, Simd.Best);
    }

    /// <summary>
    /// The index of the largest element; the first one on ties (greedy sampling). NaN elements are
    /// not supported: the logits must be finite or infinite.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is empty.</exception>
    public static int ArgMax(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty)
        {
            throw new ArgumentException("ArgMax needs at least one element.", nameof(x));
        }

        return ArgMax(x, Simd.Best);
    }

    internal static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, float eps, SimdWidth width)
    {
        CheckSameLength(x.Length, weight.Length, nameof(weight));
        CheckSameLength(x.Length, y.Length, nameof(y));
        if (x.IsEmpty)
        {
            return;
        }

        float sumOfSquares = width == SimdWidth.Scalar ? SumOfSquaresReference(x) : Dot(x, x, width);
        float scale = 1.0f / MathF.Sqrt((sumOfSquares / x.Length) + eps);
        Map2(x, weight, y, new ScaleMulOperator(scale), width);
    }

    internal static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst, SimdWidth width)
    {
        CheckSameLength(a.Length, b.Length, nameof(b));
        CheckSameLength(a.Length, dst.Length, nameof(dst));
        Map2(a, b, dst, default(AddOperator), width);
    }

    internal static void Mul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst, SimdWidth width)
    {
        CheckSameLength(a.Length, b.Length, nameof(b));
        CheckSameLength(a.Length, dst.Length, nameof(dst));
        Map2(a, b, dst, default(MulOperator), width);
    }

    internal static void Scale(Span<float> x, float factor, SimdWidth width) =>
        Map1(x, x, new ScaleOperator(factor), width);

    internal static void SwiGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> dst, SimdWidth width)
    {
        CheckSameLength(gate.Length, up.Length, nameof(up));
        CheckSameLength(gate.Length, dst.Length, nameof(dst));
        Map2(gate, up, dst, default(SiluMulOperator), width);
    }

    internal static void Softmax(Span<float> x, SimdWidth width)
    {
        if (x.IsEmpty)
        {
            return;
        }

        float max = Max(x, width);
        float sum = ExpSubtract(x, max, width);
        Map1(x, x, new ScaleOperator(1.0f / sum), width);
    }

    /// <summary><c>y[i] += alpha * x[i]</c> (attention's weighted sum of values).</summary>
    internal static void MulAdd(float alpha, ReadOnlySpan<float> x, Span<float> y, SimdWidth width)
    {
        Debug.Assert(x.Length == y.Length, "MulAdd spans must have one length.");
        Map2(x, y, y, new AxpyOperator(alpha), width);
    }

    /// <summary>Scalar reference of the sum of squares, accumulated in double as ggml's rms_norm does.</summary>
    internal static float SumOfSquaresReference(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x)
        {
            sum += (double)v * v;
        }

        return (float)sum;
    }

    private static void CheckSameLength(int expected, int actual, string paramName)
    {
        if (expected != actual)
        {
            throw new ArgumentException($"Length {actual} does not match the first argument's length {expected}.", paramName);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Ref(ReadOnlySpan<float> span) => ref MemoryMarshal.GetReference(span);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Ref(Span<float> span) => ref MemoryMarshal.GetReference(span);
}
