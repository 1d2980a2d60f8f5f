using System.Runtime.Intrinsics.X86;
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
public static unsafe class MatMul
{
    /// <summary>Below this many multiply-adds a product runs on the calling thread alone.</summary>
    private const long MinParallelMacs = 1 << 15;

    [ThreadStatic]
    private static byte[][]? _activationBuffers;

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
        KernelThreadPool pool, MatMulActivations activations)
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
            var work = Prepare(weightType, w, rows, cols, xp, yp, n, pool, activations, 0, default, out int chunkCount, out _);
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

    /// <summary>
    /// Two or three products of the same activations as one pool job (a layer's Q, K and V projections, or its gate
    /// and up projections): <c>first.Output[t · first.Rows + r] = first.Weights[r, :] · x[t, :]</c> and likewise for
    /// the others, bit-identical to separate <see cref="Compute(GgmlType, ReadOnlySpan{byte}, int, int, ReadOnlySpan{float}, Span{float}, int, KernelThreadPool, MatMulActivations)"/>
    /// calls. The threads meet at one barrier instead of one per product, and products whose activations are
    /// prepared the same way (quantized to the same type, packed, prescaled) share one preparation.
    /// </summary>
    /// <param name="x">Activations [n, cols].</param>
    /// <param name="cols">Input features of every product.</param>
    /// <param name="n">Number of tokens.</param>
    /// <param name="pool">The threads to run on.</param>
    /// <param name="activations">Float or Int8, as for one product.</param>
    /// <param name="first">The first product.</param>
    /// <param name="second">The second product.</param>
    /// <param name="third">A third product, or <c>default</c> (no rows) for two.</param>
    /// <exception cref="ArgumentException">Unsupported type, or a size that does not fit.</exception>
    public static void ComputeGroup(
        ReadOnlySpan<float> x, int cols, int n, KernelThreadPool pool, MatMulActivations activations,
        MatMulProduct first, MatMulProduct second, MatMulProduct third = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        Validate(first.Type, first.Weights, first.Rows, cols, x, first.Output, n);
        Validate(second.Type, second.Weights, second.Rows, cols, x, second.Output, n);
        Validate(third.Type, third.Weights, third.Rows, cols, x, third.Output, n);
        if (n == 0)
        {
            return;
        }

        if (cols == 0)
        {
            first.Output[..(n * first.Rows)].Clear();
            second.Output[..(n * second.Rows)].Clear();
            third.Output[..(n * third.Rows)].Clear();
            return;
        }

        fixed (byte* w0 = first.Weights, w1 = second.Weights, w2 = third.Weights)
        fixed (float* xp = x, y0 = first.Output, y1 = second.Output, y2 = third.Output)
        {
            var work0 = Prepare(first.Type, w0, first.Rows, cols, xp, y0, n, pool, activations, 0, default, out int chunks0, out var prepared0);
            var work1 = Prepare(second.Type, w1, second.Rows, cols, xp, y1, n, pool, activations, 1, prepared0, out int chunks1, out var prepared1);
            var shared = prepared1.Kind != PreparedKind.None ? prepared1 : prepared0;
            var work2 = Prepare(third.Type, w2, third.Rows, cols, xp, y2, n, pool, activations, 2, shared, out int chunks2, out _);
            var group = new MatMulGroupWork(work0, chunks0, work1, chunks1, work2, chunks2);
            if (group.ChunkCount == 1)
            {
                group.Execute(0);
            }
            else
            {
                pool.Run(group.ChunkCount, group);
            }
        }
    }

    /// <summary>Throws when the sizes of one product do not fit.</summary>
    private static void Validate(GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, ReadOnlySpan<float> y, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (rows == 0)
        {
            return;
        }

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

    /// <summary>
    /// One product as a pool job: its row chunks, and its activations quantized, packed or prescaled into buffer
    /// <paramref name="slot"/> of this thread — or <paramref name="reuse"/>'s, when that was prepared the same way.
    /// A product without rows gets no chunks.
    /// </summary>
    private static MatMulWork Prepare(
        GgmlType weightType, byte* w, int rows, int cols, float* xp, float* yp, int n, KernelThreadPool pool,
        MatMulActivations activations, int slot, PreparedActivations reuse, out int chunkCount, out PreparedActivations prepared)
    {
        prepared = default;
        if (rows == 0)
        {
            chunkCount = 0;
            return default;
        }

        long rowBytes = QuantTraits.RowBytes(weightType, cols);
        long macs = (long)rows * cols * n;
        chunkCount = 1;
        int rowsPerChunk = rows;
        if (pool.ThreadCount > 1 && macs >= MinParallelMacs && rows >= 2 * MatMulWork.RowGroup)
        {
            int target = pool.ThreadCount * 4;
            rowsPerChunk = (rows + target - 1) / target;
            rowsPerChunk = (rowsPerChunk + MatMulWork.RowGroup - 1) / MatMulWork.RowGroup * MatMulWork.RowGroup;
            chunkCount = (rows + rowsPerChunk - 1) / rowsPerChunk;
        }

        var work = new MatMulWork(weightType, w, rowBytes, rows, cols, xp, yp, n, rowsPerChunk);
        var activationType = Int8ActivationType(weightType);
        var x = new ReadOnlySpan<float>(xp, n * cols);
        if (activations == MatMulActivations.Int8 && activationType != GgmlType.F32 && Avx2.IsSupported && n < MatMulWork.Int8MaxTokens(weightType))
        {
            // Quantize every token once on this thread; the workers only read the result.
            prepared = new PreparedActivations(PreparedKind.Int8, activationType, null, Int8ActivationRowBytes(activationType, cols));
            if (reuse.Matches(prepared))
            {
                prepared = reuse;
                return work.WithActivations(reuse.Data, reuse.RowBytes);
            }

            byte* quantized = ActivationBuffer(prepared.RowBytes * n, slot);
            for (int t = 0; t < n; t++)
            {
                QuantizeInt8Activations(activationType, x.Slice(t * cols, cols), new Span<byte>(quantized + (t * prepared.RowBytes), (int)prepared.RowBytes));
            }

            prepared = prepared.At(quantized);
            return work.WithActivations(quantized, prepared.RowBytes);
        }

        if (n >= MatMulWork.GemmMinTokens && Avx2.IsSupported)
        {
            // Prefill and batches: tokens packed once here for the outer-product kernel every chunk runs.
            prepared = new PreparedActivations(PreparedKind.Packed, GgmlType.F32, null, 0);
            if (reuse.Matches(prepared))
            {
                prepared = reuse;
                return work.WithPackedTokens((float*)reuse.Data);
            }

            float* packed = (float*)ActivationBuffer(MatMulWork.PackedFloats(n, cols) * sizeof(float), slot);
            MatMulWork.PackTokens(xp, n, cols, packed);
            prepared = prepared.At((byte*)packed);
            return work.WithPackedTokens(packed);
        }

        if (weightType == GgmlType.F16 && Avx2.IsSupported && n < MatMulWork.TiledMinTokens)
        {
            // F16 decode: tokens times 2^112 once here, so that each row's halves widen in three instructions
            // (RowF16.DotPrescaled, bit-identical to RowF16.Dot). Tokens with |x| ≥ 2^16 keep the plain path.
            long scaledRowBytes = (long)cols * sizeof(float);
            prepared = new PreparedActivations(PreparedKind.Prescaled, GgmlType.F16, null, scaledRowBytes);
            if (reuse.Matches(prepared))
            {
                prepared = reuse;
                return work.WithActivations(reuse.Data, scaledRowBytes);
            }

            float* scaled = (float*)ActivationBuffer(scaledRowBytes * n, slot);
            if (RowF16.TryPrescale(x, new Span<float>(scaled, n * cols)))
            {
                prepared = prepared.At((byte*)scaled);
                return work.WithActivations((byte*)scaled, scaledRowBytes);
            }

            prepared = default;
        }

        return work;
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
        GgmlType.Q4_K => BlockQ4_K.Dot(row, x, width),
        GgmlType.Q5_K => BlockQ5_K.Dot(row, x, width),
        GgmlType.Q6_K => BlockQ6_K.Dot(row, x, width),
        GgmlType.Q8_K => BlockQ8_K.Dot(row, x, width),
        _ => throw QuantTraits.Unsupported(type, nameof(type)),
    };

    /// <summary>The activation format of the integer path for <paramref name="weightType"/>; F32 where there is none.</summary>
    internal static GgmlType Int8ActivationType(GgmlType weightType) => weightType switch
    {
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => GgmlType.Q8_0,
        GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => GgmlType.Q8_K,
        _ => GgmlType.F32,
    };

    /// <summary>Bytes of one token's activations on the integer path (<see cref="Q8_0Activations"/> for Q8_0, else the row).</summary>
    internal static long Int8ActivationRowBytes(GgmlType activationType, int cols) =>
        activationType == GgmlType.Q8_0
            ? Q8_0Activations.RowBytes(cols / BlockQ8_0.BlockSize)
            : QuantTraits.RowBytes(activationType, cols);

    /// <summary>Quantizes one token for the integer path into <paramref name="dst"/> (<see cref="Int8ActivationRowBytes"/> bytes).</summary>
    internal static void QuantizeInt8Activations(GgmlType activationType, ReadOnlySpan<float> x, Span<byte> dst)
    {
        if (activationType == GgmlType.Q8_0)
        {
            Q8_0Activations.Quantize(x, dst);
        }
        else
        {
            Quantize.Row(activationType, x, dst);
        }
    }

    /// <summary>The per-type dispatch of the integer dot products (activations quantized by <see cref="QuantizeInt8Activations"/>).</summary>
    internal static float DotInt8Unchecked(GgmlType type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks, SimdWidth width) => type switch
    {
        GgmlType.Q4_0 => BlockQ4_0.DotQ8_0(row, activations, blocks, width),
        GgmlType.Q5_0 => BlockQ5_0.DotQ8_0(row, activations, blocks, width),
        GgmlType.Q8_0 => BlockQ8_0.DotQ8_0(row, activations, blocks, width),
        GgmlType.Q4_K => BlockQ4_K.DotQ8_K(row, activations, blocks, width),
        GgmlType.Q5_K => BlockQ5_K.DotQ8_K(row, activations, blocks, width),
        GgmlType.Q6_K => BlockQ6_K.DotQ8_K(row, activations, blocks, width),
        _ => throw new ArgumentException($"{type} has no integer dot product.", nameof(type)),
    };

    /// <summary>
    /// The calling thread's buffer <paramref name="slot"/> (0–2, one per product of a group) for prepared
    /// activations: pinned (the workers read it through a pointer), grown to the largest request, then reused.
    /// </summary>
    private static byte* ActivationBuffer(long bytes, int slot)
    {
        var buffers = _activationBuffers ??= new byte[3][];
        if (buffers[slot] is null || buffers[slot].Length < bytes)
        {
            buffers[slot] = GC.AllocateUninitializedArray<byte>((int)Math.Max(bytes, 4096), pinned: true);
        }

        return (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref buffers[slot][0]);
    }

    /// <summary>How a product's activations were prepared (a later product of a group may use the same data).</summary>
    private enum PreparedKind
    {
        None,
        Int8,
        Packed,
        Prescaled,
    }

    /// <summary>Prepared activations: how, for which activation type, where, and bytes per token.</summary>
    private readonly struct PreparedActivations(PreparedKind kind, GgmlType type, byte* data, long rowBytes)
    {
        public PreparedKind Kind { get; } = kind;

        public GgmlType Type { get; } = type;

        public byte* Data { get; } = data;

        public long RowBytes { get; } = rowBytes;

        /// <summary>The same preparation, written at <paramref name="at"/>.</summary>
        public PreparedActivations At(byte* at) => new(Kind, Type, at, RowBytes);

        /// <summary>Whether these (already written) activations are what <paramref name="wanted"/> would write.</summary>
        public bool Matches(in PreparedActivations wanted) =>
            Kind != PreparedKind.None && Data != null && Kind == wanted.Kind && Type == wanted.Type && RowBytes == wanted.RowBytes;
    }

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
