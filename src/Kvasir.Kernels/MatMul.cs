using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels;

/// <summary>
/// Matrix products of a weight matrix of any supported type with float activations:
/// <c>y[t, r] = dot(W[r, :], x[t, :])</c>, the projection of every linear layer.
/// </summary>
/// <remarks>
/// <para>By default activations stay in float: each weight block is dequantized on the fly and multiplied
/// with Vector256 FMAs (the "float path"), so the only rounding beyond float arithmetic is the weights' own.
/// <see cref="MatMulActivations.Int8"/> opts into llama.cpp-style integer dot products for decode.</para>
/// <para>Rows are split into chunks that run on a <see cref="KernelThreadPool"/>. With fewer than
/// <see cref="MatMulWork.TiledMinTokens"/> tokens each row is dotted with each token directly from its quantized
/// bytes (decode). With 4–7, rows are dequantized four at a time and dotted with the tokens two at a time (a 4 × 2
/// register kernel). From <see cref="MatMulWork.GemmMinTokens"/> on, the tokens are packed once and multiplied by
/// a 4-row × 24-token outer-product register kernel, so that each weight is read from memory once per block of 96
/// tokens rather than once per token (prefill, batched decode).</para>
/// </remarks>
public static unsafe partial class MatMul
{
    /// <summary>Below this many multiply-adds a product runs on the calling thread alone.</summary>
    private const long MinParallelMacs = 1 << 15;

    /// <summary>
    /// <c>y[t * rows + r] = Σ_c W[r, c] · x[t * cols + c]</c> for r &lt; <paramref name="rows"/>, t &lt; <paramref name="n"/>,
    /// on <see cref="KernelThreadPool.Shared"/>.
    /// </summary>
    /// <param name="weightType">Element type of the weights.</param>
    /// <param name="weights">[rows, cols] row-major, each row <see cref="QuantTraits.RowBytes"/>(weightType, cols) bytes; extra bytes are ignored.</param>
    /// <param name="rows">Output features (weight rows).</param>
    /// <param name="cols">Input features; a multiple of the type's block size.</param>
    /// <param name="x">Activations [n, cols] row-major (at least n·cols floats).</param>
    /// <param name="y">Output [n, rows] row-major (at least n·rows floats; the rest is untouched).</param>
    /// <param name="n">Number of tokens.</param>
    /// <exception cref="ArgumentException">Unsupported type, or a size that does not fit.</exception>
    public static void Compute(
        GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, int n) =>
        Compute(weightType, weights, rows, cols, x, y, n, KernelThreadPool.Shared);

    /// <summary>As <see cref="Compute(GgmlType, ReadOnlySpan{byte}, int, int, ReadOnlySpan{float}, Span{float}, int)"/>, on the given pool.</summary>
    /// <param name="weightType">Element type of the weights.</param>
    /// <param name="weights">[rows, cols] row-major weights.</param>
    /// <param name="rows">Output features (weight rows).</param>
    /// <param name="cols">Input features.</param>
    /// <param name="x">Activations [n, cols].</param>
    /// <param name="y">Output [n, rows].</param>
    /// <param name="n">Number of tokens.</param>
    /// <param name="pool">The threads to run on.</param>
    public static void Compute(
        GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, int n,
        KernelThreadPool pool) =>
        Compute(weightType, weights, rows, cols, x, y, n, pool, MatMulActivations.Float);

    /// <summary>
    /// As <see cref="Compute(GgmlType, ReadOnlySpan{byte}, int, int, ReadOnlySpan{float}, Span{float}, int)"/>,
    /// on the given pool, with the activations handled as <paramref name="activations"/> says.
    /// </summary>
    /// <param name="weightType">Element type of the weights.</param>
    /// <param name="weights">[rows, cols] row-major weights.</param>
    /// <param name="rows">Output features (weight rows).</param>
    /// <param name="cols">Input features.</param>
    /// <param name="x">Activations [n, cols].</param>
    /// <param name="y">Output [n, rows].</param>
    /// <param name="n">Number of tokens.</param>
    /// <param name="pool">The threads to run on.</param>
    /// <param name="activations">Float (default) or Int8 (quantized activations, integer dot products).</param>
    public static void Compute(
        GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, int n,
        KernelThreadPool pool, MatMulActivations activations) =>
        Compute(weightType, weights, rows, cols, x, y, n, pool, activations, Simd.Best);

    /// <summary>
    /// As the public overload, with the widest vectors the kernels may use (GEMM, F16 decode, integer dots): tests
    /// pass <see cref="SimdWidth.V512"/> to run the Vector512 kernels in software where AVX-512 is missing.
    /// </summary>
    internal static void Compute(
        GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, int n,
        KernelThreadPool pool, MatMulActivations activations, SimdWidth width)
    {
        ArgumentNullException.ThrowIfNull(pool);
        Validate(weightType, weights, rows, cols, x, y, n);
        if (rows == 0 || n == 0)
        {
            return;
        }

        if (cols == 0)
        {
            y[..(n * rows)].Clear();
            return;
        }

        fixed (byte* w = weights)
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            var work = Prepare(weightType, w, rows, cols, xp, yp, n, pool, activations, 0, default, width, out int chunkCount, out _);
            if (chunkCount == 1)
            {
                work.Execute(0);
            }
            else
            {
                pool.Run(chunkCount, work);
            }
        }
    }

    /// <summary>Throws when the sizes of one product do not fit.</summary>
    private static void Validate(GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> y, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        long rowBytes = QuantTraits.RowBytes(weightType, cols);
        if (weights.Length < rowBytes * rows)
        {
            throw new ArgumentException(
                $"A [{rows}, {cols}] {weightType} matrix takes {rowBytes * rows} bytes, but the span holds {weights.Length}.",
                nameof(weights));
        }

        if (x.Length < (long)n * cols)
        {
            throw new ArgumentException($"x must hold n·cols = {(long)n * cols} floats, not {x.Length}.", nameof(x));
        }

        if (y.Length < (long)n * rows)
        {
            throw new ArgumentException($"y must hold n·rows = {(long)n * rows} floats, not {y.Length}.", nameof(y));
        }
    }

    /// <summary>Dot product of one stored row with float activations: <c>Σ dequantize(row)[i] · x[i]</c>.</summary>
    /// <param name="type">The row's element type.</param>
    /// <param name="row">At least <see cref="QuantTraits.RowBytes"/>(type, x.Length) bytes; extra bytes are ignored.</param>
    /// <param name="x">The activations; the length is the element count, a multiple of the block size.</param>
    /// <exception cref="ArgumentException">Unsupported type, or a length that does not fit.</exception>
    public static float Dot(GgmlType type, ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        long bytes = QuantTraits.RowBytes(type, x.Length);
        if (row.Length < bytes)
        {
            throw new ArgumentException(
                $"{x.Length} elements of {type} take {bytes} bytes, but the row holds only {row.Length}.", nameof(row));
        }

        return DotUnchecked(type, row, x, Simd.Best);
    }

    /// <summary>The per-type dispatch of <see cref="Dot"/>, lengths already validated.</summary>
    internal static float DotUnchecked(GgmlType type, ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width) => type switch
    {
        GgmlType.F32 => RowF32.Dot(row, x, width),
        GgmlType.F16 => RowF16.Dot(row, x, width),
        GgmlType.BF16 => RowBF16.Dot(row, x, width),
        GgmlType.Q4_0 => BlockQ4_0.Dot(row, x, width),
        GgmlType.Q4_1 => BlockQ4_1.Dot(row, x, width),
        GgmlType.Q5_0 => BlockQ5_0.Dot(row, x, width),
        GgmlType.Q5_1 => BlockQ5_1.Dot(row, x, width),
        GgmlType.Q8_0 => BlockQ8_0.Dot(row, x, width),
        GgmlType.Q2_K => BlockQ2_K.Dot(row, x, width),
        GgmlType.Q3_K => BlockQ3_K.Dot(row, x, width),
        GgmlType.Q4_K => BlockQ4_K.Dot(row, x, width),
        GgmlType.Q5_K => BlockQ5_K.Dot(row, x, width),
        GgmlType.Q6_K => BlockQ6_K.Dot(row, x, width),
        GgmlType.Q8_K => BlockQ8_K.Dot(row, x, width),
        GgmlType.IQ4_NL => BlockIQ4_NL.Dot(row, x, width),
        GgmlType.IQ4_XS => BlockIQ4_XS.Dot(row, x, width),
        _ => throw QuantTraits.Unsupported(type, nameof(type)),
    };

    /// <summary>The activation format of the integer path for <paramref name="weightType"/>; F32 where there is none.</summary>
    internal static GgmlType Int8ActivationType(GgmlType weightType) => weightType switch
    {
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.IQ4_NL => GgmlType.Q8_0,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.IQ4_XS => GgmlType.Q8_K,
        _ => GgmlType.F32,
    };

    /// <summary>The per-type dispatch of the integer dot products (activations quantized by <see cref="QuantizeInt8Activations"/>).</summary>
    internal static float DotInt8Unchecked(GgmlType type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks, SimdWidth width) => type switch
    {
        GgmlType.Q4_0 => BlockQ4_0.DotQ8_0(row, activations, blocks, width),
        GgmlType.Q5_0 => BlockQ5_0.DotQ8_0(row, activations, blocks, width),
        GgmlType.Q8_0 => BlockQ8_0.DotQ8_0(row, activations, blocks, width),
        GgmlType.Q2_K => BlockQ2_K.DotQ8_K(row, activations, blocks, width),
        GgmlType.Q3_K => BlockQ3_K.DotQ8_K(row, activations, blocks, width),
        GgmlType.Q4_K => BlockQ4_K.DotQ8_K(row, activations, blocks, width),
        GgmlType.Q5_K => BlockQ5_K.DotQ8_K(row, activations, blocks, width),
        GgmlType.Q6_K => BlockQ6_K.DotQ8_K(row, activations, blocks, width),
        GgmlType.IQ4_NL => BlockIQ4_NL.DotQ8_0(row, activations, blocks, width),
        GgmlType.IQ4_XS => BlockIQ4_XS.DotQ8_K(row, activations, blocks, width),
        _ => throw new ArgumentException($"{type} has no integer dot product.", nameof(type)),
    };

    /// <summary>The scalar reference of a whole product: reference dot per row and token (tests, fallback).</summary>
    internal static void ComputeReference(
        GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, int n)
    {
        int rowBytes = (int)QuantTraits.RowBytes(weightType, cols);
        for (int t = 0; t < n; t++)
        {
            for (int r = 0; r < rows; r++)
            {
                y[(t * rows) + r] = DotUnchecked(weightType, weights.Slice(r * rowBytes, rowBytes), x.Slice(t * cols, cols), SimdWidth.Scalar);
            }
        }
    }
}
