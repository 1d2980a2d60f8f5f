using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The 512-bit form of the integer GEMMs, for AVX-512 machines without VNNI in .NET's reach (Zen 4: AVX512-VNNI exists
/// but .NET 10 exposes only the VEX <see cref="AvxVnni"/>, which Zen 4 lacks) and, for weights of at most six bits, for
/// those with it (see <see cref="UsesWideKernel"/>): the same packed tokens, sixteen tokens
/// per zmm, products by <c>vpmaddubsw</c> summed in int16 for as many steps as the weights' range allows, then one
/// <c>vpmaddwd</c> with ones into the int32 sums.
/// </summary>
/// <remarks>
/// <para>
/// A step multiplies the four bytes g of a weight row's block (broadcast) with the sixteen tokens' four bytes g: one
/// zmm of the packed group (64 bytes). <c>vpmaddubsw</c> leaves each int16 lane the sum of two u8 × s8 products; a
/// lane after k steps holds 2k products, each at most u_max · 127 in size (|q| ≤ 127 from Q8_0's rounding), so the
/// int16 sums are exact while 2k · u_max · 127 ≤ 32767: eight steps (a whole block of 32) for 4-bit values (Q4_0,
/// Q4_K), four for 5-bit (Q5_0, Q5_K), two for 6-bit (Q6_K). There the int16 sums go through <c>vpmaddwd</c> with ones
/// into the int32 sums (a flush, see <see cref="StepsPerFlush"/>). Weights of eight bits (Q8_0 and IQ4_NL in the
/// unsigned form v + 128) are split into nibbles when a row is unpacked, u = 16 · hi + lo: two products per step, each 4-bit,
/// and the high sums enter with <c>vpmaddwd</c> by 16 instead of 1.
/// </para>
/// <para>
/// The int32 block sums are the exact sums of the VNNI kernels, and the float steps are theirs lane for lane, so both
/// forms give the same bits. Per block of 32 and two rows a step is three loads, two <c>vpmaddubsw</c> and two
/// <c>vpaddw</c> (twice the products for the split types) for 128 multiply-adds; the float GEMM spends eight FMAs.
/// </para>
/// <para>
/// Measured against the float GEMM these replace there (Zen 5 with AVX-VNNI hidden from .NET by
/// <c>DOTNET_EnableAVXVNNI=0</c>, the benchmark program, ratios to llama.cpp in the same run; see docs/benchmarks.md):
/// L Q4_K_M prefill 0.90× → 1.37×, 16 sequences 0.88× → 1.42×; M Q8_0 16 sequences 1.17× → 1.60×, prefill equal
/// (the split 8-bit types do as many operations per product as the FMAs).
/// </para>
/// <code>
/// unpacked weight row of an 8-bit type: per block b, lo[32] then hi[32] (64 bytes), then float d[blocks]
/// unpacked row of Q4_0: as <see cref="UnpackRow{TWeights}"/>
/// </code>
/// </remarks>
internal static unsafe partial class Q8_0Gemm
{
    /// <summary>
    /// Whether the 512-bit kernels replace the AVX-VNNI ones at <paramref name="width"/> for weights of
    /// <paramref name="valueBits"/> bits: on AVX-512 machines without AVX-VNNI, and on those with it for values of at
    /// most six bits (Q4_0, Q5_0, Q4_K, Q5_K, Q6_K), whose products the 512-bit kernel sums in int16 over several steps.
    /// </summary>
    /// <remarks>
    /// Measured on Zen 5 (kbench harness, one core, 2048 columns, 64 unpacked rows and one group of 16 tokens in L2,
    /// best of 3000, the two kernels in turns): per block of 32 of two rows the 512-bit kernel took 4.6–5.0 ns for
    /// Q4_K (the AVX-VNNI kernel 6.5–7.0), 5.8 for Q6_K (7.2–7.4) and 4.7 for Q4_0 (6.5–6.6): sixteen
    /// <c>vpmaddubsw</c> on zmm and their int16 adds against thirty-two <c>vpdpbusd</c> on ymm. The 8-bit types keep
    /// AVX-VNNI: split into nibbles they need twice the <c>vpmaddubsw</c> (thirteenth session, each against llama.cpp in
    /// its own run: L Q8_0's 16-way decode 2.07× with AVX-VNNI, 1.33× with it hidden).
    /// </remarks>
    public static bool UsesWideKernel(SimdWidth width, int valueBits) =>
        width >= SimdWidth.V512 && (!AvxVnni.IsSupported || (valueBits <= 6 && Avx512BW.IsSupported));

    /// <summary>
    /// Bits of the unsigned weight values of <typeparamref name="TWeights"/>: 4 (Q4_0), 5 (Q5_0's <see cref="BlockQ5_0.GemmWeights"/>),
    /// 8 (Q8_0, IQ4_NL: the types without an offset unpack as v + 128).
    /// </summary>
    /// <remarks>
    /// Inlined by demand: the kernels that ask are compiled fully optimized on first call (no tiering), where the
    /// inliner left this call in place, so the step count per flush was not a constant and the 512-bit Q4_0 kernel
    /// ran branchy code (kbench harness, Zen 5, 2048 columns, builds in turns: 8.4–13 ns per block of two rows before,
    /// 5.0–5.9 after).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ValueBits<TWeights>()
        where TWeights : struct, IQ8_0Weights => TWeights.OffsetShift >= 0 ? TWeights.OffsetShift + 1 : 8;

    /// <summary>Steps (four bytes each) whose <c>vpmaddubsw</c> sums stay exact in int16 for values of <paramref name="bits"/> bits (at most 6).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int StepsPerFlush(int bits) => bits <= 4 ? 8 : bits == 5 ? 4 : 2;

    /// <summary>Bytes of one unpacked weight row for <see cref="Kernel2x16Wide{TWeights}"/>.</summary>
    public static int UnpackedRowBytesWide<TWeights>(int blocks)
        where TWeights : struct, IQ8_0Weights => ValueBits<TWeights>() == 8 ? blocks * ((2 * BlockQ8_0.BlockSize) + sizeof(float)) : UnpackedRowBytes(blocks);

    /// <summary>One weight row for <see cref="Kernel2x16Wide{TWeights}"/>: 8-bit values split into nibbles (see the remarks).</summary>
    public static void UnpackRowWide<TWeights>(byte* row, int blocks, byte* dst)
        where TWeights : struct, IQ8_0Weights
    {
        if (ValueBits<TWeights>() != 8)
        {
            UnpackRow<TWeights>(row, blocks, dst);
            return;
        }

        for (int b = 0; b < blocks; b++)
        {
            var u = TWeights.Unpack(ref *(row + ((long)b * TWeights.BlockBytes))) ^ Vector256.Create((byte)0x80);
            StoreSplit(u, dst + ((long)b * 2 * BlockQ8_0.BlockSize));
        }

        UnpackScales<TWeights>(row, blocks, (float*)(dst + ((long)blocks * 2 * BlockQ8_0.BlockSize)));
    }

    /// <summary>One block's 32 unsigned 8-bit values as the 512-bit kernel reads them: lo[32] (low nibbles), then hi[32].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSplit(Vector256<byte> u, byte* dst)
    {
        var mask = Vector256.Create((byte)0x0F);
        (u & mask).Store(dst);
        (Vector256.ShiftRightLogical(u.AsUInt16(), 4).AsByte() & mask).Store(dst + BlockQ8_0.BlockSize);
    }

    /// <summary>
    /// <see cref="Kernel2x16"/> in 512-bit vectors without VNNI (see the remarks): the same results bit for bit, from
    /// rows unpacked by <see cref="UnpackRowWide{TWeights}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel2x16Wide<TWeights>(byte* u0, byte* u1, int blocks, byte* group, float* out0, float* out1, byte* prefetch = null)
        where TWeights : struct, IQ8_0Weights
    {
        bool split = ValueBits<TWeights>() == 8;
        int blockBytes = split ? 2 * BlockQ8_0.BlockSize : BlockQ8_0.BlockSize;
        float* d0 = (float*)(u0 + ((long)blocks * blockBytes));
        float* d1 = (float*)(u1 + ((long)blocks * blockBytes));
        Vector512<float> f0 = default, f1 = default;
        for (int b = 0; b < blocks; b++)
        {
            if (prefetch != null && Sse.IsSupported)
            {
                Sse.Prefetch1(prefetch + (b * 64));
            }

            byte* x = group + ((long)b * BlockStride);
            uint* w0 = (uint*)(u0 + (b * blockBytes));
            uint* w1 = (uint*)(u1 + (b * blockBytes));
            var i0 = Vector512.Load((int*)(x + StartsAt));
            var i1 = i0;
            if (split)
            {
                StepsSplit(w0, w1, x, ref i0, ref i1);
            }
            else
            {
                StepsWide(ValueBits<TWeights>(), w0, w1, x, 0, 8, ref i0, ref i1);
            }

            var dx = Vector512.Load((float*)(x + ScalesAt));
            f0 = Simd.MulAdd(Vector512.ConvertToSingle(i0), Vector512.Create(d0[b]) * dx, f0);
            f1 = Simd.MulAdd(Vector512.ConvertToSingle(i1), Vector512.Create(d1[b]) * dx, f1);
        }

        f0.Store(out0);
        f1.Store(out1);
    }

    /// <summary>
    /// Four unpacked rows of values of at most six bits (Q4_0, Q5_0; row k at <c>u + k · stride</c>) against one packed
    /// group of 16 tokens, row k's 16 results to <c>output + k · outputStride</c>: <see cref="Kernel2x16Wide{TWeights}"/>
    /// with each zmm of tokens read once for four rows (see <see cref="KQuantGemm.Kernel4x16Wide{TWeights}"/>), the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel4x16Wide<TWeights>(byte* u, int stride, int blocks, byte* group, float* output, int outputStride, byte* prefetch = null)
        where TWeights : struct, IQ8_0Weights
    {
        Debug.Assert(ValueBits<TWeights>() <= 6, "The split 8-bit rows take the pair kernel.");
        byte* u1 = u + stride;
        byte* u2 = u1 + stride;
        byte* u3 = u2 + stride;
        long scalesAt = (long)blocks * BlockQ8_0.BlockSize;
        float* d0 = (float*)(u + scalesAt);
        float* d1 = (float*)(u1 + scalesAt);
        float* d2 = (float*)(u2 + scalesAt);
        float* d3 = (float*)(u3 + scalesAt);
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < blocks; b++)
        {
            if (prefetch != null && Sse.IsSupported)
            {
                Sse.Prefetch1(prefetch + (b * 64));
            }

            byte* x = group + ((long)b * BlockStride);
            int at = b * BlockQ8_0.BlockSize;
            var i0 = Vector512.Load((int*)(x + StartsAt));
            var i1 = i0;
            var i2 = i0;
            var i3 = i0;
            StepsWide4(ValueBits<TWeights>(), (uint*)(u + at), (uint*)(u1 + at), (uint*)(u2 + at), (uint*)(u3 + at), x, 0, 8, ref i0, ref i1, ref i2, ref i3);
            var dx = Vector512.Load((float*)(x + ScalesAt));
            f0 = Simd.MulAdd(Vector512.ConvertToSingle(i0), Vector512.Create(d0[b]) * dx, f0);
            f1 = Simd.MulAdd(Vector512.ConvertToSingle(i1), Vector512.Create(d1[b]) * dx, f1);
            f2 = Simd.MulAdd(Vector512.ConvertToSingle(i2), Vector512.Create(d2[b]) * dx, f2);
            f3 = Simd.MulAdd(Vector512.ConvertToSingle(i3), Vector512.Create(d3[b]) * dx, f3);
        }

        f0.Store(output);
        f1.Store(output + outputStride);
        f2.Store(output + (2 * outputStride));
        f3.Store(output + (3 * outputStride));
    }

    /// <summary>
    /// Steps first..first + count − 1 (count 4 or 8, a constant where inlined) of two rows of <paramref name="bits"/>-bit
    /// values into the int32 sums <paramref name="i0"/>, <paramref name="i1"/>, flushed as often as their range requires.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StepsWide(int bits, uint* w0, uint* w1, byte* x, int first, int count, ref Vector512<int> i0, ref Vector512<int> i1)
    {
        int perFlush = StepsPerFlush(bits);
        Vector512<short> s0 = default, s1 = default;
        StepWide(w0, w1, x, first, ref s0, ref s1);
        StepWide(w0, w1, x, first + 1, ref s0, ref s1);
        if (perFlush == 2)
        {
            FlushWide(ref i0, ref s0, ref i1, ref s1);
        }

        StepWide(w0, w1, x, first + 2, ref s0, ref s1);
        StepWide(w0, w1, x, first + 3, ref s0, ref s1);
        if (perFlush <= 4 || count == 4)
        {
            FlushWide(ref i0, ref s0, ref i1, ref s1);
        }

        if (count == 8)
        {
            StepWide(w0, w1, x, first + 4, ref s0, ref s1);
            StepWide(w0, w1, x, first + 5, ref s0, ref s1);
            if (perFlush == 2)
            {
                FlushWide(ref i0, ref s0, ref i1, ref s1);
            }

            StepWide(w0, w1, x, first + 6, ref s0, ref s1);
            StepWide(w0, w1, x, first + 7, ref s0, ref s1);
            FlushWide(ref i0, ref s0, ref i1, ref s1);
        }
    }

    /// <summary>
    /// <see cref="StepsWide"/> for four rows: each zmm of tokens loaded once for all four, which halves the bytes of
    /// packed tokens read per product (see <see cref="KQuantGemm.Kernel4x16Wide{TWeights}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StepsWide4(
        int bits, uint* w0, uint* w1, uint* w2, uint* w3, byte* x, int first, int count,
        ref Vector512<int> i0, ref Vector512<int> i1, ref Vector512<int> i2, ref Vector512<int> i3)
    {
        int perFlush = StepsPerFlush(bits);
        Vector512<short> s0 = default, s1 = default, s2 = default, s3 = default;
        StepWide4(w0, w1, w2, w3, x, first, ref s0, ref s1, ref s2, ref s3);
        StepWide4(w0, w1, w2, w3, x, first + 1, ref s0, ref s1, ref s2, ref s3);
        if (perFlush == 2)
        {
            FlushWide4(ref i0, ref i1, ref i2, ref i3, ref s0, ref s1, ref s2, ref s3);
        }

        StepWide4(w0, w1, w2, w3, x, first + 2, ref s0, ref s1, ref s2, ref s3);
        StepWide4(w0, w1, w2, w3, x, first + 3, ref s0, ref s1, ref s2, ref s3);
        if (perFlush <= 4 || count == 4)
        {
            FlushWide4(ref i0, ref i1, ref i2, ref i3, ref s0, ref s1, ref s2, ref s3);
        }

        if (count == 8)
        {
            StepWide4(w0, w1, w2, w3, x, first + 4, ref s0, ref s1, ref s2, ref s3);
            StepWide4(w0, w1, w2, w3, x, first + 5, ref s0, ref s1, ref s2, ref s3);
            if (perFlush == 2)
            {
                FlushWide4(ref i0, ref i1, ref i2, ref i3, ref s0, ref s1, ref s2, ref s3);
            }

            StepWide4(w0, w1, w2, w3, x, first + 6, ref s0, ref s1, ref s2, ref s3);
            StepWide4(w0, w1, w2, w3, x, first + 7, ref s0, ref s1, ref s2, ref s3);
            FlushWide4(ref i0, ref i1, ref i2, ref i3, ref s0, ref s1, ref s2, ref s3);
        }
    }

    /// <summary>Step g of four rows: one zmm of tokens, four <c>vpmaddubsw</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepWide4(
        uint* w0, uint* w1, uint* w2, uint* w3, byte* x, int g,
        ref Vector512<short> s0, ref Vector512<short> s1, ref Vector512<short> s2, ref Vector512<short> s3)
    {
        var tokens = Vector512.Load((sbyte*)(x + (g * 64)));
        s0 += Int8Simd.MultiplyAddAdjacent(Vector512.Create(w0[g]).AsByte(), tokens);
        s1 += Int8Simd.MultiplyAddAdjacent(Vector512.Create(w1[g]).AsByte(), tokens);
        s2 += Int8Simd.MultiplyAddAdjacent(Vector512.Create(w2[g]).AsByte(), tokens);
        s3 += Int8Simd.MultiplyAddAdjacent(Vector512.Create(w3[g]).AsByte(), tokens);
    }

    /// <summary><see cref="FlushWide"/> for four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FlushWide4(
        ref Vector512<int> i0, ref Vector512<int> i1, ref Vector512<int> i2, ref Vector512<int> i3,
        ref Vector512<short> s0, ref Vector512<short> s1, ref Vector512<short> s2, ref Vector512<short> s3)
    {
        FlushWide(ref i0, ref s0, ref i1, ref s1);
        FlushWide(ref i2, ref s2, ref i3, ref s3);
    }

    /// <summary>
    /// All eight steps of a block of two rows of 8-bit values split into nibbles (<see cref="UnpackRowWide{TWeights}"/>:
    /// lo at <paramref name="w0"/>, hi 32 bytes on): the int16 sums of each half stay exact over the block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepsSplit(uint* w0, uint* w1, byte* x, ref Vector512<int> i0, ref Vector512<int> i1)
    {
        Vector512<short> lo0 = default, lo1 = default, hi0 = default, hi1 = default;
        SplitStep(w0, w1, x, 0, ref lo0, ref lo1, ref hi0, ref hi1);
        SplitStep(w0, w1, x, 1, ref lo0, ref lo1, ref hi0, ref hi1);
        SplitStep(w0, w1, x, 2, ref lo0, ref lo1, ref hi0, ref hi1);
        SplitStep(w0, w1, x, 3, ref lo0, ref lo1, ref hi0, ref hi1);
        SplitStep(w0, w1, x, 4, ref lo0, ref lo1, ref hi0, ref hi1);
        SplitStep(w0, w1, x, 5, ref lo0, ref lo1, ref hi0, ref hi1);
        SplitStep(w0, w1, x, 6, ref lo0, ref lo1, ref hi0, ref hi1);
        SplitStep(w0, w1, x, 7, ref lo0, ref lo1, ref hi0, ref hi1);

        var sixteen = Vector512.Create((short)16);
        i0 += Int8Simd.MultiplyAddAdjacent(lo0, Vector512<short>.One) + Int8Simd.MultiplyAddAdjacent(hi0, sixteen);
        i1 += Int8Simd.MultiplyAddAdjacent(lo1, Vector512<short>.One) + Int8Simd.MultiplyAddAdjacent(hi1, sixteen);
    }

    /// <summary>Step g of two rows split into nibbles: the tokens loaded once for both halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SplitStep(
        uint* w0, uint* w1, byte* x, int g, ref Vector512<short> lo0, ref Vector512<short> lo1, ref Vector512<short> hi0, ref Vector512<short> hi1)
    {
        var tokens = Vector512.Load((sbyte*)(x + (g * 64)));
        lo0 += Int8Simd.MultiplyAddAdjacent(Vector512.Create(w0[g]).AsByte(), tokens);
        lo1 += Int8Simd.MultiplyAddAdjacent(Vector512.Create(w1[g]).AsByte(), tokens);
        hi0 += Int8Simd.MultiplyAddAdjacent(Vector512.Create(w0[8 + g]).AsByte(), tokens);
        hi1 += Int8Simd.MultiplyAddAdjacent(Vector512.Create(w1[8 + g]).AsByte(), tokens);
    }

    /// <summary>
    /// Step g of two rows at 512 bits: the rows' four bytes g broadcast against the sixteen tokens' (one zmm of the
    /// packed block), the pair sums added to the int16 sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StepWide(uint* w0, uint* w1, byte* x, int g, ref Vector512<short> s0, ref Vector512<short> s1)
    {
        var tokens = Vector512.Load((sbyte*)(x + (g * 64)));
        s0 += Int8Simd.MultiplyAddAdjacent(Vector512.Create(w0[g]).AsByte(), tokens);
        s1 += Int8Simd.MultiplyAddAdjacent(Vector512.Create(w1[g]).AsByte(), tokens);
    }

    /// <summary>The int16 sums into the int32 sums (<c>vpmaddwd</c> with ones), and cleared.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void FlushWide(ref Vector512<int> i0, ref Vector512<short> s0, ref Vector512<int> i1, ref Vector512<short> s1)
    {
        i0 += Int8Simd.MultiplyAddAdjacent(s0, Vector512<short>.One);
        i1 += Int8Simd.MultiplyAddAdjacent(s1, Vector512<short>.One);
        s0 = default;
        s1 = default;
    }
}
