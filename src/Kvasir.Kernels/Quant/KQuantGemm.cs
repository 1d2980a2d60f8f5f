using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>A K-quant weight format as <see cref="KQuantGemm"/> reads it: unsigned values and a scale and offset per sub-block.</summary>
internal unsafe interface IKQuantGemmWeights
{
    /// <summary>Bytes per super-block of 256.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>Bits of the unsigned values: 2 (Q2_K), 3 (Q3_K), 4 (Q4_K), 5 (Q5_K), 6 (Q6_K).</summary>
    static abstract int ValueBits { get; }

    /// <summary>Elements per sub-block with its own scale and offset: 32 (Q4_K, Q5_K) or 16 (Q2_K, Q3_K, Q6_K).</summary>
    static abstract int SubBlock { get; }

    /// <summary>
    /// log2 of o where every sub-block's offset is b = −o · a (Q6_K: o = 32, value = a · (u − 32); Q3_K: o = 4), so the
    /// kernel can start the integer sum at −o · Σ q and skip the offset's float step; −1 where b is a sub-block's own
    /// (Q2_K, Q4_K, Q5_K).
    /// </summary>
    static abstract int OffsetShift { get; }

    /// <summary>
    /// One super-block as <c>value[j] = a[j / SubBlock] · u[j] + b[j / SubBlock]</c>: the 256 unsigned values into
    /// <paramref name="u"/>, 256 / SubBlock scales into <paramref name="a"/> and offsets into <paramref name="b"/>.
    /// </summary>
    static abstract void Unpack(byte* block, byte* u, float* a, float* b);
}

/// <summary>
/// The integer GEMM of Q2_K, Q3_K, Q4_K, Q5_K and Q6_K weights for batches and prefill on AVX-VNNI machines: <see cref="Q8_0Gemm"/>'s
/// tokens-in-lanes <c>vpdpbusd</c> kernel, with the weights unpacked per row to unsigned values and a float scale a and
/// offset b per sub-block, and the tokens quantized per 32 values (Q8_0's rounding).
/// </summary>
/// <remarks>
/// <para>
/// Per sub-block s of a row and token t: Σ_j (a_s·u_j + b_s)·(d_t·q_tj) = a_s·d_t·Σ u·q + b_s·(d_t·Σ q). The integer
/// sums are exact (u ≤ 63, |q| ≤ 127); per sub-block one conversion, one multiply and two FMAs per eight tokens —
/// one FMA where b = −o · a (Q6_K): there the integer sum starts at −o · Σ q and ends at Σ (u − o) · q.
/// Quantizing the tokens per 32 values (not per 256 as Q8_K, llama.cpp's choice for these weights) makes the
/// activations' rounding smaller, not larger; the result is not the bits of the one-token Q8_K kernels, and a token's
/// result does not depend on the other tokens of its batch.
/// </para>
/// <code>
/// packed tokens, per group of 16 tokens, per block of 32 values b (BlockStride = 896 bytes):
///   [0, 512)    for g = 0..7: tokens 0..15, each its 4 quants 4g..4g+3
///   [512, 576)  float d[16]              the tokens' scales (0 for padding)
///   [576, 640)  float low[16]            d · Σ of quants 0..15
///   [640, 704)  float high[16]           d · Σ of quants 16..31
///   [704, 768)  float whole[16]          d · Σ of all 32
///   [768, 832)  int32 lowSum[16]         Σ of quants 0..15
///   [832, 896)  int32 highSum[16]        Σ of quants 16..31
/// unpacked weight row: u8 u[cols], then float a[cols / SubBlock], then float b[cols / SubBlock]
/// </code>
/// </remarks>
internal static unsafe partial class KQuantGemm
{
    /// <summary>Bytes of one block of 32 of one packed group of 16 tokens.</summary>
    public const int BlockStride = 896;

    private const int ScalesAt = 512;
    private const int LowAt = 576;
    private const int HighAt = 640;
    private const int WholeAt = 704;
    private const int LowSumAt = 768;
    private const int HighSumAt = 832;

    /// <summary>Bytes of the packed tokens for n tokens and <paramref name="blocks"/> blocks of 32.</summary>
    public static long PackedBytes(int n, int blocks) => (long)((n + Q8_0Gemm.GroupTokens - 1) / Q8_0Gemm.GroupTokens) * blocks * BlockStride;

    /// <summary>Bytes of one unpacked weight row of <paramref name="cols"/> values (sub-blocks of 16 or 32).</summary>
    public static int UnpackedRowBytes(int cols) => cols + (2 * (cols / 16) * sizeof(float));

    /// <summary>
    /// Packs n tokens already quantized by <see cref="Q8_0Activations.Quantize"/> (token t at
    /// <c>activations + t · rowBytes</c>) into groups of 16 (<see cref="PackedBytes"/> bytes at <paramref name="dst"/>).
    /// </summary>
    public static void Pack(byte* activations, long rowBytes, int n, int blocks, byte* dst) =>
        Pack(activations, rowBytes, n, blocks, dst, 0, blocks);

    /// <summary>
    /// Blocks <paramref name="first"/>..<paramref name="end"/> − 1 of every token of <see cref="Pack(byte*, long, int, int, byte*)"/>
    /// (the padding tokens of those blocks zeroed): threads pack disjoint block ranges, which share no cache line.
    /// </summary>
    public static void Pack(byte* activations, long rowBytes, int n, int blocks, byte* dst, int first, int end)
    {
        Q8_0Gemm.ClearPadding(dst, n, blocks, BlockStride, first, end);
        long scalesAt = (long)blocks * BlockQ8_0.BlockBytes;
        long sumsAt = scalesAt + ((long)blocks * sizeof(float));
        for (int t = 0; t < n; t++)
        {
            byte* a = activations + (t * rowBytes);
            int j = t % Q8_0Gemm.GroupTokens;
            for (int b = first; b < end; b++)
            {
                byte* block = Q8_0Gemm.BlockOf(dst, t, b, blocks, BlockStride);
                byte* q = a + ((long)b * BlockQ8_0.BlockBytes) + 2;
                Q8_0Gemm.PackQuants(block, j, q);
                int low = Q8_0Activations.QuantSum(new ReadOnlySpan<byte>(q, 16));
                int high = ((int*)(a + sumsAt))[b] - low;
                float d = ((float*)(a + scalesAt))[b];
                ((float*)(block + ScalesAt))[j] = d;
                ((float*)(block + LowAt))[j] = d * low;
                ((float*)(block + HighAt))[j] = d * high;
                ((float*)(block + WholeAt))[j] = d * (low + high);
                ((int*)(block + LowSumAt))[j] = low;
                ((int*)(block + HighSumAt))[j] = high;
            }
        }
    }

    /// <summary>One weight row unpacked (<see cref="UnpackedRowBytes"/> bytes at <paramref name="dst"/>).</summary>
    /// <remarks>
    /// The types' <c>Unpack</c> are inlined into this loop: called per super-block they spent a call, five register
    /// saves and a class-initialization check on each (kbench harness, Zen 5, one core, rows of 2048 in L2, builds in
    /// turns: Q4_K 1.22–1.27 → 1.07–1.12 ns, Q6_K 1.32–1.37 → 1.22–1.27 ns per block of 32 of two rows; the same bytes).
    /// At 16 tokens the unpacking is about a sixth of the integer GEMM's time.
    /// </remarks>
    public static void UnpackRow<TWeights>(byte* row, int cols, byte* dst)
        where TWeights : struct, IKQuantGemmWeights
    {
        int perBlock = 256 / TWeights.SubBlock;
        float* a = (float*)(dst + cols);
        float* b = a + (cols / TWeights.SubBlock);
        for (int sb = 0; sb < cols / 256; sb++)
        {
            TWeights.Unpack(row + ((long)sb * TWeights.BlockBytes), dst + (sb * 256), a + (sb * perBlock), b + (sb * perBlock));
        }
    }

    /// <summary>
    /// Two unpacked rows of <paramref name="cols"/> values against one packed group of 16 tokens; one line from
    /// <paramref name="prefetch"/> per block of 32 into L2 unless it is null (see <see cref="Q8_0Gemm.Kernel2x16"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel2x16<TWeights>(byte* u0, byte* u1, int cols, byte* group, float* out0, float* out1, byte* prefetch = null)
        where TWeights : struct, IKQuantGemmWeights
    {
        int subBlocks = cols / TWeights.SubBlock;
        float* a0 = (float*)(u0 + cols);
        float* b0 = a0 + subBlocks;
        float* a1 = (float*)(u1 + cols);
        float* b1 = a1 + subBlocks;
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default;
        for (int blk = 0; blk < cols / 32; blk++)
        {
            if (prefetch != null && Sse.IsSupported)
            {
                Sse.Prefetch1(prefetch + (blk * 64));
            }

            byte* x = group + ((long)blk * BlockStride);
            uint* w0 = (uint*)(u0 + (blk * 32));
            uint* w1 = (uint*)(u1 + (blk * 32));
            var dx0 = Vector256.Load((float*)(x + ScalesAt));
            var dx1 = Vector256.Load((float*)(x + ScalesAt) + 8);
            Start<TWeights>((int*)(x + LowSumAt), out var i00, out var i01, out var i10, out var i11);
            Q8_0Gemm.Step(w0, w1, x, 0, ref i00, ref i01, ref i10, ref i11);
            Q8_0Gemm.Step(w0, w1, x, 1, ref i00, ref i01, ref i10, ref i11);
            Q8_0Gemm.Step(w0, w1, x, 2, ref i00, ref i01, ref i10, ref i11);
            Q8_0Gemm.Step(w0, w1, x, 3, ref i00, ref i01, ref i10, ref i11);
            if (TWeights.SubBlock == 16)
            {
                int s = 2 * blk;
                Fold<TWeights>(i00, i01, i10, i11, a0[s], b0[s], a1[s], b1[s], dx0, dx1, (float*)(x + LowAt), ref f00, ref f01, ref f10, ref f11);
                Start<TWeights>((int*)(x + HighSumAt), out i00, out i01, out i10, out i11);
            }

            Q8_0Gemm.Step(w0, w1, x, 4, ref i00, ref i01, ref i10, ref i11);
            Q8_0Gemm.Step(w0, w1, x, 5, ref i00, ref i01, ref i10, ref i11);
            Q8_0Gemm.Step(w0, w1, x, 6, ref i00, ref i01, ref i10, ref i11);
            Q8_0Gemm.Step(w0, w1, x, 7, ref i00, ref i01, ref i10, ref i11);
            if (TWeights.SubBlock == 16)
            {
                int s = (2 * blk) + 1;
                Fold<TWeights>(i00, i01, i10, i11, a0[s], b0[s], a1[s], b1[s], dx0, dx1, (float*)(x + HighAt), ref f00, ref f01, ref f10, ref f11);
            }
            else
            {
                Fold<TWeights>(i00, i01, i10, i11, a0[blk], b0[blk], a1[blk], b1[blk], dx0, dx1, (float*)(x + WholeAt), ref f00, ref f01, ref f10, ref f11);
            }
        }

        f00.Store(out0);
        f01.Store(out0 + 8);
        f10.Store(out1);
        f11.Store(out1 + 8);
    }

    /// <summary>
    /// The sixteen sub-block scales of a type whose offset is −o · a (Q3_K, Q6_K): a = d · sc into
    /// <paramref name="a"/>, b = <paramref name="offsetFactor"/> · a (−o) into <paramref name="b"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ScalesWithOffset16(Vector128<sbyte> scales, float d, float offsetFactor, float* a, float* b)
    {
        var wide = Vector256.WidenLower(scales.ToVector256());
        var first = Vector256.ConvertToSingle(Vector256.WidenLower(wide)) * Vector256.Create(d);
        var second = Vector256.ConvertToSingle(Vector256.WidenUpper(wide)) * Vector256.Create(d);
        first.Store(a);
        second.Store(a + 8);
        (first * offsetFactor).Store(b);
        (second * offsetFactor).Store(b + 8);
    }

    /// <summary>The integer sums' start for one sub-block: zero, or −o · Σ q where the type's offset is −o · a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Start<TWeights>(int* sums, out Vector256<int> i00, out Vector256<int> i01, out Vector256<int> i10, out Vector256<int> i11)
        where TWeights : struct, IKQuantGemmWeights
    {
        if (TWeights.OffsetShift < 0)
        {
            i00 = i01 = i10 = i11 = default;
            return;
        }

        i00 = i10 = Vector256<int>.Zero - Vector256.ShiftLeft(Vector256.Load(sums), TWeights.OffsetShift);
        i01 = i11 = Vector256<int>.Zero - Vector256.ShiftLeft(Vector256.Load(sums + 8), TWeights.OffsetShift);
    }

    /// <summary>
    /// One sub-block's integer sums into the float accumulators: acc += sum · (a · d), then + b · (d · Σ q) unless the
    /// offset is already in the sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fold<TWeights>(
        Vector256<int> i00, Vector256<int> i01, Vector256<int> i10, Vector256<int> i11, float a0, float b0, float a1, float b1,
        Vector256<float> dx0, Vector256<float> dx1, float* sums, ref Vector256<float> f00, ref Vector256<float> f01,
        ref Vector256<float> f10, ref Vector256<float> f11)
        where TWeights : struct, IKQuantGemmWeights
    {
        var sa0 = Vector256.Create(a0);
        var sa1 = Vector256.Create(a1);
        f00 = Simd.MulAdd(Vector256.ConvertToSingle(i00), sa0 * dx0, f00);
        f01 = Simd.MulAdd(Vector256.ConvertToSingle(i01), sa0 * dx1, f01);
        f10 = Simd.MulAdd(Vector256.ConvertToSingle(i10), sa1 * dx0, f10);
        f11 = Simd.MulAdd(Vector256.ConvertToSingle(i11), sa1 * dx1, f11);
        if (TWeights.OffsetShift < 0)
        {
            var s0 = Vector256.Load(sums);
            var s1 = Vector256.Load(sums + 8);
            var sb0 = Vector256.Create(b0);
            var sb1 = Vector256.Create(b1);
            f00 = Simd.MulAdd(sb0, s0, f00);
            f01 = Simd.MulAdd(sb0, s1, f01);
            f10 = Simd.MulAdd(sb1, s0, f10);
            f11 = Simd.MulAdd(sb1, s1, f11);
        }
    }
}

/// <summary>
/// Q4_K or Q5_K for <see cref="KQuantGemm"/>: u = the values of the AVX2 kernels' chunk source
/// (<see cref="BlockQ4_K.Chunks256"/>: the nibble; <see cref="BlockQ5_K.Chunks256"/>: with its fifth bit), a = d · sc,
/// b = −dmin · m per sub-block of 32.
/// </summary>
internal readonly unsafe struct KQuantGemmQ4_KFamily<TChunks> : IKQuantGemmWeights
    where TChunks : struct, BlockQ4_K.IKChunks256
{
    public static int BlockBytes => TChunks.BlockBytes;

    public static int ValueBits => TChunks.ValueBits;

    public static int SubBlock => 32;

    public static int OffsetShift => -1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* block, byte* u, float* a, float* b)
    {
        ScalesAndMins(block, a, b);
        var chunks = default(TChunks);
        chunks.Start(block);
        for (int c = 0; c < 4; c++)
        {
            chunks.Chunk(block, c, out var low, out var high);
            low.Store(u + (64 * c));
            high.Store(u + (64 * c) + 32);
        }
    }

    /// <summary>
    /// a = d · sc and b = −dmin · m of the eight sub-blocks (Q4_K's and Q5_K's layout of d, dmin and the 12 packed bytes),
    /// unpacked in SIMD (<see cref="BlockQ4_K.UnpackScalesAndMins"/>) rather than sub-block by sub-block: at 16 tokens
    /// the unpacking of each row had been a third of the kernel's work.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalesAndMins(byte* block, float* a, float* b)
    {
        var dd = BlockQ4_K.HalvesPair(ref *block); // [d, dmin, 0, 0]
        var scalesAndMins = BlockQ4_K.UnpackScalesAndMins(ref *(block + 4)); // int16: sc[0..7], m[0..7]
        (Vector256.ConvertToSingle(Vector256.WidenLower(scalesAndMins)) * Vector256.Create(dd.GetElement(0))).Store(a);
        (Vector256.ConvertToSingle(Vector256.WidenUpper(scalesAndMins)) * Vector256.Create(-dd.GetElement(1))).Store(b);
    }
}

/// <summary>
/// Q6_K for <see cref="KQuantGemm"/>: u = the 6-bit q (<see cref="BlockQ6_K.Unpack(ref byte, ref byte, out Vector256{byte}, out Vector256{byte}, out Vector256{byte}, out Vector256{byte})"/>),
/// a = d · sc, b = −32 · d · sc per sub-block of 16.
/// </summary>
internal readonly unsafe struct KQuantGemmQ6_K : IKQuantGemmWeights
{
    public static int BlockBytes => BlockQ6_K.BlockBytes;

    public static int ValueBits => 6;

    public static int SubBlock => 16;

    public static int OffsetShift => 5;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* block, byte* u, float* a, float* b)
    {
        KQuantGemm.ScalesWithOffset16(Vector128.Load((sbyte*)(block + 192)), QuantSimd.ReadHalf(ref *(block + 208)), -32f, a, b);

        for (int h = 0; h < 2; h++)
        {
            BlockQ6_K.Unpack(ref *(block + (64 * h)), ref *(block + 128 + (32 * h)), out var q0, out var q1, out var q2, out var q3);
            byte* e = u + (128 * h);
            q0.Store(e);
            q1.Store(e + 32);
            q2.Store(e + 64);
            q3.Store(e + 96);
        }
    }
}

/// <summary>
/// Q3_K for <see cref="KQuantGemm"/>: u = q + 4 (0..7, <see cref="BlockQ3_K.UnpackUnsigned"/>), a = d · sc,
/// b = −4 · d · sc per sub-block of 16 (sc the signed 6-bit scale).
/// </summary>
internal readonly unsafe struct KQuantGemmQ3_K : IKQuantGemmWeights
{
    public static int BlockBytes => BlockQ3_K.BlockBytes;

    public static int ValueBits => 3;

    public static int SubBlock => 16;

    public static int OffsetShift => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* block, byte* u, float* a, float* b)
    {
        KQuantGemm.ScalesWithOffset16(BlockQ3_K.Scales(ref *block), QuantSimd.ReadHalf(ref *(block + 108)), -4f, a, b);
        BlockQ3_K.UnpackUnsigned(block, u);
    }
}

/// <summary>
/// Q2_K for <see cref="KQuantGemm"/>: u = q (0..3, <see cref="BlockQ2_K.UnpackValues"/>), a = d · sc, b = −dmin · m per
/// sub-block of 16 (sc and m the 4-bit scale and min).
/// </summary>
internal readonly unsafe struct KQuantGemmQ2_K : IKQuantGemmWeights
{
    public static int BlockBytes => BlockQ2_K.BlockBytes;

    public static int ValueBits => 2;

    public static int SubBlock => 16;

    public static int OffsetShift => -1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* block, byte* u, float* a, float* b)
    {
        var d = Vector256.Create(QuantSimd.ReadHalf(ref *(block + 80)));
        var dmin = Vector256.Create(-QuantSimd.ReadHalf(ref *(block + 82)));
        var packed = Vector128.Load(block);
        var scales = Vector256.WidenLower((packed & Vector128.Create((byte)15)).ToVector256());
        var mins = Vector256.WidenLower(Vector128.ShiftRightLogical(packed, 4).ToVector256());
        (Vector256.ConvertToSingle(Vector256.WidenLower(scales).AsInt32()) * d).Store(a);
        (Vector256.ConvertToSingle(Vector256.WidenUpper(scales).AsInt32()) * d).Store(a + 8);
        (Vector256.ConvertToSingle(Vector256.WidenLower(mins).AsInt32()) * dmin).Store(b);
        (Vector256.ConvertToSingle(Vector256.WidenUpper(mins).AsInt32()) * dmin).Store(b + 8);
        BlockQ2_K.UnpackValues(block, u);
    }
}
