using System.Runtime.Intrinsics.X86;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels;

/// <summary>How a product's activations are prepared for its kernel (quantized, packed, prescaled) and where they live.</summary>
public static unsafe partial class MatMul
{
    [ThreadStatic]
    private static byte[][]? _activationBuffers;

    /// <summary>
    /// One product as a pool job: its row chunks, and its activations quantized, packed or prescaled into buffer
    /// <paramref name="slot"/> of this thread — or <paramref name="reuse"/>'s, when that was prepared the same way.
    /// A product without rows gets no chunks. <paramref name="width"/> is <see cref="Simd.Best"/> except in tests, which
    /// ask for <see cref="SimdWidth.V512"/> to run the Vector512 kernels (in software) on a machine without AVX-512.
    /// </summary>
    private static MatMulWork Prepare(
        GgmlType weightType, byte* w, int rows, int cols, float* xp, float* yp, int n, KernelThreadPool pool,
        MatMulActivations activations, int slot, PreparedActivations reuse, SimdWidth width, out int chunkCount, out PreparedActivations prepared)
    {
        prepared = default;
        if (rows == 0)
        {
            chunkCount = 0;
            return default;
        }

        long rowBytes = QuantTraits.RowBytes(weightType, cols);
        long macs = (long)rows * cols * n;
        var chunks = RowChunks.Single(rows);
        if (pool.ThreadCount > 1 && macs >= MinParallelMacs && rows >= 2 * MatMulWork.RowGroup)
        {
            // One token (decode) reads each row once and streams memory: equal chunks, whose measured balance the
            // decode figures rest on. Several tokens compute long enough per row that the last chunk's length shows.
            chunks = n > 1 ? RowChunks.Shrinking(rows, pool.ThreadCount) : RowChunks.Equal(rows, pool.ThreadCount);
        }

        chunkCount = chunks.Count;
        var work = new MatMulWork(weightType, w, rowBytes, rows, cols, xp, yp, n, chunks, width);
        var activationType = Int8ActivationType(weightType);
        var x = new ReadOnlySpan<float>(xp, n * cols);
        if (activations == MatMulActivations.Int8 && activationType != GgmlType.F32 && Avx2.IsSupported && n < MatMulWork.Int8MaxTokens(weightType, width))
        {
            if (MatMulWork.UsesInt8Gemm(weightType, width) && n >= MatMulWork.Int8GemmMinTokens(weightType))
            {
                return PrepareInt8Gemm(work, weightType, xp, cols, n, pool, slot, reuse, out prepared);
            }

            // Quantize every token once on this thread; the workers only read the result.
            prepared = new PreparedActivations(PreparedKind.Int8, activationType, null, Int8ActivationRowBytes(activationType, cols));
            if (reuse.Matches(prepared))
            {
                prepared = reuse;
                return work.WithActivations(reuse.Data, reuse.RowBytes);
            }

            byte* quantized = ActivationBuffer(prepared.RowBytes * n, slot);
            QuantizeTokens(activationType, xp, n, cols, quantized, prepared.RowBytes);

            prepared = prepared.At(quantized);
            return work.WithActivations(quantized, prepared.RowBytes);
        }

        if (n >= MatMulWork.GemmMinTokens && Avx2.IsSupported)
        {
            // Prefill and batches: tokens packed once here for the outer-product kernel every chunk runs (micro-tiles
            // of 48 tokens for the Vector512 kernels, else 24; the tile size stands in the row-bytes slot, so that a
            // product of the group reuses only packing of its own layout). F16 weights with wide tiles: the packed
            // tokens times 2^112, so that rows widen without a multiply (RowF16.WidenScaledDown); tokens with
            // |x| ≥ 2^16 keep the plain packing.
            bool wide = work.WideTiles;
            if (work.PrescalesPackedTokens && TryPackTokens(xp, n, cols, wide, prescaled: true, slot, reuse, out prepared, out float* scaled))
            {
                return work.WithPrescaledPackedTokens(scaled);
            }

            TryPackTokens(xp, n, cols, wide, prescaled: false, slot, reuse, out prepared, out float* packed);
            return work.WithPackedTokens(packed);
        }

        if (weightType == GgmlType.F16 && Avx2.IsSupported && n < MatMulWork.TiledMinTokens)
        {
            // F16 decode: tokens times 2^112 once here, so that each row's halves widen in three instructions
            // (RowF16.DotPrescaled, bit-identical to RowF16.Dot), shared by two tokens (DotPrescaled2). From 4 tokens
            // the 4 × 2 float tiles are as fast (kbench, 5632 × 2048, 2 threads: 4-7 tokens through pairs of
            // DotPrescaled2 took 2.5-4.0 ms against the tiles' 2.3-3.6), so they keep that range.
            // Tokens with |x| ≥ 2^16 keep the plain path.
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

    /// <summary>
    /// Tokens packed for the GEMM (<see cref="MatMulWork.PackTokens"/>) into buffer <paramref name="slot"/>, or
    /// <paramref name="reuse"/>'s packing where it is the same; <paramref name="prescaled"/>: times 2^112 as well, false
    /// (nothing prepared) where a token's magnitude is 2^16 or more.
    /// </summary>
    private static bool TryPackTokens(
        float* xp, int n, int cols, bool wide, bool prescaled, int slot, PreparedActivations reuse, out PreparedActivations prepared, out float* packed)
    {
        prepared = prescaled
            ? new PreparedActivations(PreparedKind.PackedPrescaled, GgmlType.F16, null, MatMulWork.MicroTileTokens(wide))
            : new PreparedActivations(PreparedKind.Packed, GgmlType.F32, null, MatMulWork.MicroTileTokens(wide));
        if (reuse.Matches(prepared))
        {
            prepared = reuse;
            packed = (float*)reuse.Data;
            return true;
        }

        long floats = MatMulWork.PackedFloats(n, cols, wide);
        packed = (float*)ActivationBuffer(floats * sizeof(float), slot);
        MatMulWork.PackTokens(xp, n, cols, packed, wide);
        if (prescaled)
        {
            var all = new Span<float>(packed, checked((int)floats));
            if (!RowF16.TryPrescale(all, all))
            {
                prepared = default;
                return false;
            }
        }

        prepared = prepared.At((byte*)packed);
        return true;
    }

    /// <summary>Token values (n · cols) from which a preparation is split across the pool, per thread.</summary>
    private const long MinParallelTokenValues = 4096;

    /// <summary>
    /// Batches and prefill on the integer GEMMs (AVX-VNNI or AVX-512 machines): every token quantized to Q8_0 as for the Q8_0
    /// family's one-token kernels, then packed in groups of 16 for <see cref="Q8_0Gemm"/> or <see cref="KQuantGemm"/>, in
    /// parallel (<see cref="Int8GemmTokensWork"/>); the Q8_0 family's block starts depend on the weight type, so there
    /// only a product of the same weight type reuses them, while the K-quants share one layout.
    /// </summary>
    private static MatMulWork PrepareInt8Gemm(
        in MatMulWork work, GgmlType weightType, float* xp, int cols, int n, KernelThreadPool pool, int slot, PreparedActivations reuse,
        out PreparedActivations prepared)
    {
        int blocks = cols / BlockQ8_0.BlockSize;
        long rowBytes = Q8_0Activations.RowBytes(blocks);
        // Q4_K, Q5_K and Q6_K share KQuantGemm's layout: an attention group with V in Q6_K packs its tokens once.
        var layout = MatMulWork.IsKQuantGemm(weightType) ? GgmlType.Q4_K : weightType;
        prepared = new PreparedActivations(PreparedKind.Int8Gemm, layout, null, rowBytes);
        if (reuse.Matches(prepared))
        {
            prepared = reuse;
            return work.WithInt8Gemm(reuse.Data);
        }

        long quantizedBytes = rowBytes * n;
        byte* quantized = ActivationBuffer(quantizedBytes + KQuantGemm.PackedBytes(n, blocks) + MatMulWork.CacheLineBytes, slot); // the larger layout
        byte* packed = (byte*)MatMulWork.AlignUp(quantized + quantizedBytes);
        bool kQuant = MatMulWork.IsKQuantGemm(weightType);
        // Split only where every thread gets a few thousand values: the pool's wake-up is a few microseconds.
        int chunks = pool.ThreadCount > 1 && (long)n * cols >= pool.ThreadCount * MinParallelTokenValues ? pool.ThreadCount * 2 : 1;
        var tokens = new Int8GemmTokensWork(xp, n, cols, quantized, rowBytes, packed, kQuant, kQuant ? 0 : MatMulWork.Int8GemmOffset(weightType), chunks);
        pool.Run(tokens.ChunkCount, tokens);
        prepared = prepared.At(packed);
        return work.WithInt8Gemm(packed);
    }

    /// <summary>Bytes of one token's activations on the integer path (<see cref="Q8_0Activations"/> or <see cref="Q8_KActivations"/>).</summary>
    internal static long Int8ActivationRowBytes(GgmlType activationType, int cols) => activationType switch
    {
        GgmlType.Q8_0 => Q8_0Activations.RowBytes(cols / BlockQ8_0.BlockSize),
        GgmlType.Q8_K => Q8_KActivations.RowBytes(cols / BlockQ8_K.BlockSize),
        _ => QuantTraits.RowBytes(activationType, cols),
    };

    /// <summary>Quantizes n tokens of <paramref name="cols"/> floats (<see cref="QuantizeInt8Activations"/>), token t to <c>dst + t · rowBytes</c>.</summary>
    private static void QuantizeTokens(GgmlType activationType, float* x, int n, int cols, byte* dst, long rowBytes)
    {
        for (int t = 0; t < n; t++)
        {
            QuantizeInt8Activations(activationType, new ReadOnlySpan<float>(x + ((long)t * cols), cols), new Span<byte>(dst + (t * rowBytes), (int)rowBytes));
        }
    }

    /// <summary>Quantizes one token for the integer path into <paramref name="dst"/> (<see cref="Int8ActivationRowBytes"/> bytes).</summary>
    internal static void QuantizeInt8Activations(GgmlType activationType, ReadOnlySpan<float> x, Span<byte> dst)
    {
        if (activationType == GgmlType.Q8_0)
        {
            Q8_0Activations.Quantize(x, dst);
        }
        else if (activationType == GgmlType.Q8_K)
        {
            Q8_KActivations.Quantize(x, dst);
        }
        else
        {
            Quantize.Row(activationType, x, dst);
        }
    }

    /// <summary>
    /// The calling thread's buffer <paramref name="slot"/> (0–2, one per product of a group) for prepared
    /// activations: pinned (the workers read it through a pointer), grown to the largest request, then reused.
    /// </summary>
    private static byte* ActivationBuffer(long bytes, int slot)
    {
        var buffers = _activationBuffers ??= new byte[3][];
        if (buffers[slot] is null || buffers[slot].Length < bytes + MatMulWork.CacheLineBytes)
        {
            buffers[slot] = GC.AllocateUninitializedArray<byte>((int)Math.Max(bytes + MatMulWork.CacheLineBytes, 4096), pinned: true);
        }

        // From the first cache-line boundary: the GEMM loads the packed tokens as whole vectors.
        return (byte*)MatMulWork.AlignUp(System.Runtime.CompilerServices.Unsafe.AsPointer(ref buffers[slot][0]));
    }

    /// <summary>How a product's activations were prepared (a later product of a group may use the same data).</summary>
    private enum PreparedKind
    {
        None,
        Int8,
        Int8Gemm,
        Packed,
        PackedPrescaled,
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
}
