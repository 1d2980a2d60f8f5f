using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The integer GEMM of the Q8_0 family (Q4_0, Q5_0, Q8_0, IQ4_NL weights; Q8_0 activations) for batches and prefill:
/// eight tokens per vector, one weight row's four bytes broadcast against them, <c>vpdpbusd</c> (AVX-VNNI).
/// </summary>
/// <remarks>
/// <para>
/// The one-token kernels put 32 values of one row and one token side by side in a vector, so every block ends in a
/// horizontal fold and a conversion for a single (row, token) pair. Here the lanes are tokens: lane t of
/// <c>vpdpbusd(acc, broadcast(w[4g..4g+3]), x[t][4g..4g+3])</c> adds four products of row and token t, and eight such
/// steps leave token t's whole block sum in lane t — exact int32, no fold. Per block, two rows and sixteen tokens
/// take 32 <c>vpdpbusd</c> (1024 multiply-adds) and twelve float operations for the scales.
/// </para>
/// <para>
/// <c>vpdpbusd</c> multiplies unsigned by signed bytes. The weights go in unsigned, as <c>u = v + o</c> with the
/// type's offset o (the stored nibbles of Q4_0 and Q5_0, o = 8 or 16; <c>v + 128</c> for the signed values of Q8_0 and
/// IQ4_NL): Σ u·a = Σ v·a + o·Σ a, so each block's accumulator starts at −o·Σ a (stored with the packed tokens) and
/// ends at the exact Σ v·a. Products are at most 255 · 127 and four of them fit an int32 with room to spare: no
/// saturation (unlike <c>vpmaddubsw</c>, which is why machines without VNNI do not take this path).
/// </para>
/// <para>
/// Per block the float step is <c>acc_t += (float)isum_t · (d_w · d_t)</c>, block after block; a token's result does not
/// depend on which tokens share its batch (padding tokens are zeros), but it is not the bits of the one-token kernel,
/// which folds four blocks before converting.
/// </para>
/// <code>
/// packed tokens, per group of 16 tokens, per block b (BlockStride = 640 bytes):
///   [0, 512)    for g = 0..7: tokens 0..15, each its 4 quants 4g..4g+3   (64 bytes per g)
///   [512, 576)  float d[16]          the tokens' Q8_0 scales (0 for padding)
///   [576, 640)  int32 start[16]      −o · Σ quants of the block
/// unpacked weight row: u8 u[blocks · 32], then float d[blocks]
/// </code>
/// </remarks>
internal static unsafe partial class Q8_0Gemm
{
    /// <summary>Tokens per packed group (two vectors of eight).</summary>
    public const int GroupTokens = 16;

    /// <summary>Bytes of one block of one packed group of tokens.</summary>
    public const int BlockStride = 640;

    private const int ScalesAt = 512;
    private const int StartsAt = 576;

    /// <summary>
    /// Whether the machine runs this GEMM at speed with vectors up to <paramref name="width"/>: AVX-VNNI (elsewhere
    /// <see cref="Int8Simd.DotSumAdd"/> is exact but slow), or AVX-512BW for the 512-bit kernels
    /// (<see cref="UsesWideKernel"/>).
    /// </summary>
    public static bool IsSupported(SimdWidth width) =>
        (width >= SimdWidth.V256 && AvxVnni.IsSupported) || (width >= SimdWidth.V512 && Avx512BW.IsSupported);

    /// <summary>Bytes of the packed tokens for n tokens and <paramref name="blocks"/> blocks of 32.</summary>
    public static long PackedBytes(int n, int blocks) => (long)((n + GroupTokens - 1) / GroupTokens) * blocks * BlockStride;

    /// <summary>Bytes of one unpacked weight row.</summary>
    public static int UnpackedRowBytes(int blocks) => blocks * (BlockQ8_0.BlockSize + sizeof(float));

    /// <summary>The offset o of the weights' unsigned form (see the remarks).</summary>
    public static int Offset<TWeights>()
        where TWeights : struct, IQ8_0Weights => TWeights.OffsetShift >= 0 ? 1 << TWeights.OffsetShift : 128;

    /// <summary>
    /// Packs n tokens already quantized by <see cref="Q8_0Activations.Quantize"/> (token t at
    /// <c>activations + t · rowBytes</c>) into groups of 16 (<see cref="PackedBytes"/> bytes at <paramref name="dst"/>),
    /// the missing tokens of the last group as zeros.
    /// </summary>
    public static void Pack(byte* activations, long rowBytes, int n, int blocks, int offset, byte* dst) =>
        Pack(activations, rowBytes, n, blocks, offset, dst, 0, blocks);

    /// <summary>
    /// Blocks <paramref name="first"/>..<paramref name="end"/> − 1 of every token of <see cref="Pack(byte*, long, int, int, int, byte*)"/>
    /// (the padding tokens of those blocks zeroed): threads pack disjoint block ranges, which share no cache line.
    /// </summary>
    public static void Pack(byte* activations, long rowBytes, int n, int blocks, int offset, byte* dst, int first, int end)
    {
        ClearPadding(dst, n, blocks, BlockStride, first, end);
        long scalesAt = (long)blocks * BlockQ8_0.BlockBytes;
        long sumsAt = scalesAt + ((long)blocks * sizeof(float));
        for (int t = 0; t < n; t++)
        {
            byte* a = activations + (t * rowBytes);
            int j = t % GroupTokens;
            for (int b = first; b < end; b++)
            {
                byte* block = BlockOf(dst, t, b, blocks, BlockStride);
                PackQuants(block, j, a + ((long)b * BlockQ8_0.BlockBytes) + 2);
                ((float*)(block + ScalesAt))[j] = ((float*)(a + scalesAt))[b];
                ((int*)(block + StartsAt))[j] = -offset * ((int*)(a + sumsAt))[b];
            }
        }
    }

    /// <summary>
    /// Zeros blocks <paramref name="first"/>..<paramref name="end"/> − 1 of the last group of a packed layout
    /// (<paramref name="blockStride"/> bytes per block) when n tokens leave some of it unused: padding tokens are zeros
    /// in every field (also <see cref="KQuantGemm"/>'s layout).
    /// </summary>
    internal static void ClearPadding(byte* dst, int n, int blocks, int blockStride, int first, int end)
    {
        if (n % GroupTokens != 0)
        {
            new Span<byte>(BlockOf(dst, n, first, blocks, blockStride), (end - first) * blockStride).Clear();
        }
    }

    /// <summary>Block b of token t's group in a packed layout of <paramref name="blockStride"/> bytes per block.</summary>
    internal static byte* BlockOf(byte* dst, int t, int b, int blocks, int blockStride) =>
        dst + ((((long)(t / GroupTokens) * blocks) + b) * blockStride);

    /// <summary>A token's 32 quants (at <paramref name="q"/>) into lane j of a packed block: four bytes per 64-byte row g.</summary>
    internal static void PackQuants(byte* block, int j, byte* q)
    {
        uint* data = (uint*)block;
        for (int g = 0; g < 8; g++)
        {
            data[(g * GroupTokens) + j] = Unsafe.ReadUnaligned<uint>(q + (4 * g));
        }
    }

    /// <summary>One weight row in the unsigned form (<see cref="UnpackedRowBytes"/> bytes at <paramref name="dst"/>).</summary>
    public static void UnpackRow<TWeights>(byte* row, int blocks, byte* dst)
        where TWeights : struct, IQ8_0Weights
    {
        float* d = (float*)(dst + ((long)blocks * BlockQ8_0.BlockSize));
        var flip = TWeights.OffsetShift >= 0 ? Vector256<byte>.Zero : Vector256.Create((byte)0x80);
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref *(row + ((long)b * TWeights.BlockBytes));
            (TWeights.Unpack(ref block) ^ flip).Store(dst + ((long)b * BlockQ8_0.BlockSize));
        }

        UnpackScales<TWeights>(row, blocks, d);
    }

    /// <summary>The blocks' fp16 scales as floats into <paramref name="d"/>.</summary>
    private static void UnpackScales<TWeights>(byte* row, int blocks, float* d)
        where TWeights : struct, IQ8_0Weights
    {
        // Four at a time: at 16 tokens, widening them one by one cost as much as the unpacking.
        int wb = TWeights.BlockBytes;
        int s = 0;
        for (; s + 4 <= blocks; s += 4)
        {
            QuantSimd.ReadHalves4(ref *(row + ((long)s * wb)), wb).Store(d + s);
        }

        for (; s < blocks; s++)
        {
            d[s] = QuantSimd.ReadHalf(ref *(row + ((long)s * wb)));
        }
    }

    /// <summary>
    /// Two unpacked rows against one packed group of 16 tokens: <c>out0[t]</c> and <c>out1[t]</c> for t &lt; 16.
    /// Unless <paramref name="prefetch"/> is null, one line from it on per block is asked for into L2 as the kernel
    /// goes: the weights of the rows after next, spread so that the requests do not queue up at once (kbench, Q8_0
    /// 16 tokens, two threads: 1.05–1.21× against one burst before the kernel; K-quants unchanged).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel2x16(byte* u0, byte* u1, int blocks, byte* group, float* out0, float* out1, byte* prefetch = null)
    {
        float* d0 = (float*)(u0 + ((long)blocks * BlockQ8_0.BlockSize));
        float* d1 = (float*)(u1 + ((long)blocks * BlockQ8_0.BlockSize));
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default;
        for (int b = 0; b < blocks; b++)
        {
            if (prefetch != null && Sse.IsSupported)
            {
                Sse.Prefetch1(prefetch + (b * 64));
            }

            byte* x = group + ((long)b * BlockStride);
            uint* w0 = (uint*)(u0 + (b * BlockQ8_0.BlockSize));
            uint* w1 = (uint*)(u1 + (b * BlockQ8_0.BlockSize));
            var i00 = Vector256.Load((int*)(x + StartsAt));
            var i01 = Vector256.Load((int*)(x + StartsAt) + 8);
            var i10 = i00;
            var i11 = i01;
            Step(w0, w1, x, 0, ref i00, ref i01, ref i10, ref i11);
            Step(w0, w1, x, 1, ref i00, ref i01, ref i10, ref i11);
            Step(w0, w1, x, 2, ref i00, ref i01, ref i10, ref i11);
            Step(w0, w1, x, 3, ref i00, ref i01, ref i10, ref i11);
            Step(w0, w1, x, 4, ref i00, ref i01, ref i10, ref i11);
            Step(w0, w1, x, 5, ref i00, ref i01, ref i10, ref i11);
            Step(w0, w1, x, 6, ref i00, ref i01, ref i10, ref i11);
            Step(w0, w1, x, 7, ref i00, ref i01, ref i10, ref i11);
            var dx0 = Vector256.Load((float*)(x + ScalesAt));
            var dx1 = Vector256.Load((float*)(x + ScalesAt) + 8);
            var s0 = Vector256.Create(d0[b]);
            var s1 = Vector256.Create(d1[b]);
            f00 = Simd.MulAdd(Vector256.ConvertToSingle(i00), s0 * dx0, f00);
            f01 = Simd.MulAdd(Vector256.ConvertToSingle(i01), s0 * dx1, f01);
            f10 = Simd.MulAdd(Vector256.ConvertToSingle(i10), s1 * dx0, f10);
            f11 = Simd.MulAdd(Vector256.ConvertToSingle(i11), s1 * dx1, f11);
        }

        f00.Store(out0);
        f01.Store(out0 + 8);
        f10.Store(out1);
        f11.Store(out1 + 8);
    }

    /// <summary>Four bytes g of each row's block against the 16 tokens' four bytes g (also <see cref="KQuantGemm"/>'s step).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Step(uint* w0, uint* w1, byte* x, int g, ref Vector256<int> i00, ref Vector256<int> i01, ref Vector256<int> i10, ref Vector256<int> i11)
    {
        var x0 = Vector256.Load((sbyte*)(x + (g * 64)));
        var x1 = Vector256.Load((sbyte*)(x + (g * 64) + 32));
        var a = Vector256.Create(w0[g]).AsByte();
        var c = Vector256.Create(w1[g]).AsByte();
        i00 = Int8Simd.DotSumAdd(i00, a, x0);
        i01 = Int8Simd.DotSumAdd(i01, a, x1);
        i10 = Int8Simd.DotSumAdd(i10, c, x0);
        i11 = Int8Simd.DotSumAdd(i11, c, x1);
    }
}
