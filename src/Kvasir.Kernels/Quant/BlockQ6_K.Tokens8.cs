using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// <see cref="BlockQ6_K"/> against eight Q8_K tokens per pass over a row (AVX2), as <see cref="BlockQ4_K.DotQ8_K8"/>
/// does for Q4_K: each token's arithmetic is <see cref="DotQ8_K"/>'s, so results are bit-identical to one token at a
/// time.
/// </summary>
/// <remarks>
/// <code>
/// per super-block:  scales widened once                                        (shared by the 8 tokens)
///   half h, pair p: q = two vectors of 32 six-bit values (ql nibbles | qh bits) (shared)
///                   token t: sumi[t] += vpmaddwd(vpmaddubsw(q, a_t), sc) for both  (6 instructions)
///   token t:        acc[t] += float(sumi[t]) · d·d_t;  offsets[t] += float(sc · bsums_t) · d·d_t
/// </code>
/// A pair at a time (not a whole half, as the four-token kernel unpacks it) keeps the two values, their two scale
/// vectors and the eight int32 accumulators within the 16 ymm registers.
/// </remarks>
internal static partial class BlockQ6_K
{
    /// <summary>
    /// <see cref="DotQ8_K"/> of one row with eight tokens at once: <c>results[t]</c> is bit-identical to
    /// <see cref="DotQ8_K"/> of token t. AVX2 only; with <see cref="SimdWidth.V512"/>, two passes of
    /// <see cref="DotQ8_K4"/>'s 512-bit body.
    /// </summary>
    /// <param name="row">The weight row's super-blocks.</param>
    /// <param name="activations">Token 0's <see cref="Q8_KActivations"/> row; token t's starts t · <paramref name="stride"/> bytes later.</param>
    /// <param name="stride">Bytes from one token's activations to the next.</param>
    /// <param name="blocks">Super-blocks in the row.</param>
    /// <param name="results">Eight floats: the dot with each token.</param>
    /// <param name="width">The widest vectors to use.</param>
    public static unsafe void DotQ8_K8(byte* row, byte* activations, long stride, int blocks, float* results, SimdWidth width)
    {
        if (width >= SimdWidth.V512)
        {
            DotQ8_K4x512(row, activations, stride, blocks, results);
            DotQ8_K4x512(row, activations + (4 * stride), stride, blocks, results + 4);
            return;
        }

        var acc = stackalloc Vector256<float>[8];
        var offsets = stackalloc Vector256<float>[8];
        for (int t = 0; t < 8; t++)
        {
            acc[t] = Vector256<float>.Zero;
            offsets[t] = Vector256<float>.Zero;
        }

        var nibble = Vector256.Create((byte)0x0F);
        var bits = Vector256.Create((byte)0x30);
        for (int b = 0; b < blocks; b++)
        {
            byte* block = row + ((long)b * BlockBytes);
            byte* a = activations + ((long)b * BlockQ8_K.BlockBytes) + 4; // token 0's quants of block b
            var scales = Avx2.ConvertToVector256Int16(Vector128.Load((sbyte*)(block + 192))); // sc[0..15]
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            for (int h = 0; h < 2; h++)
            {
                // Half h: 64 bytes of low nibbles, 32 of high bits, 128 activations, its 8 scales in both lanes.
                byte* ql = block + (64 * h);
                byte* qh = block + 128 + (32 * h);
                byte* ah = a + (128 * h);
                var half = h == 0 ? scales.GetLower() : scales.GetUpper();
                var halfScales = Vector256.Create(half, half).AsByte();
                var low0 = Vector256.Load(ql);
                var low1 = Vector256.Load(ql + 32);
                var high = Vector256.Load(qh);

                // The layout of Unpack: q0 and q1 take bits 0-3 of ql and bits 0-1 / 2-3 of qh, q2 and q3 bits 4-7
                // of ql and bits 4-5 / 6-7 of qh.
                var q0 = (low0 & nibble) | ((high.AsUInt16() << 4).AsByte() & bits);
                var q1 = (low1 & nibble) | ((high.AsUInt16() << 2).AsByte() & bits);
                Pair8(q0, q1, ah, stride, PairScales(halfScales, 0), PairScales(halfScales, 2), ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
                var q2 = ((low0.AsUInt16() >> 4).AsByte() & nibble) | (high & bits);
                var q3 = ((low1.AsUInt16() >> 4).AsByte() & nibble) | ((high.AsUInt16() >> 2).AsByte() & bits);
                Pair8(q2, q3, ah + 64, stride, PairScales(halfScales, 4), PairScales(halfScales, 6), ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
            }

            float dw = QuantSimd.ReadHalf(ref *(block + 208));
            FloatStep(s0, dw, scales, ref *activations, b, ref acc[0], ref offsets[0]);
            FloatStep(s1, dw, scales, ref *(activations + stride), b, ref acc[1], ref offsets[1]);
            FloatStep(s2, dw, scales, ref *(activations + (2 * stride)), b, ref acc[2], ref offsets[2]);
            FloatStep(s3, dw, scales, ref *(activations + (3 * stride)), b, ref acc[3], ref offsets[3]);
            FloatStep(s4, dw, scales, ref *(activations + (4 * stride)), b, ref acc[4], ref offsets[4]);
            FloatStep(s5, dw, scales, ref *(activations + (5 * stride)), b, ref acc[5], ref offsets[5]);
            FloatStep(s6, dw, scales, ref *(activations + (6 * stride)), b, ref acc[6], ref offsets[6]);
            FloatStep(s7, dw, scales, ref *(activations + (7 * stride)), b, ref acc[7], ref offsets[7]);
        }

        for (int t = 0; t < 8; t++)
        {
            results[t] = Vector256.Sum(acc[t]) - (32 * Vector256.Sum(offsets[t]));
        }
    }

    /// <summary>Two vectors of 32 values (64 elements) of <see cref="DotQ8_K8"/> for its eight tokens.</summary>
    /// <param name="qa">The first 32 unsigned values.</param>
    /// <param name="qb">The next 32.</param>
    /// <param name="a">Token 0's 64 activations for them; token t's are t · <paramref name="stride"/> bytes later.</param>
    /// <param name="stride">Bytes from one token's activations to the next.</param>
    /// <param name="scalesA">The int16 scales of <paramref name="qa"/> (<see cref="PairScales"/>).</param>
    /// <param name="scalesB">Those of <paramref name="qb"/>.</param>
    /// <param name="s0">Token 0's integer sums.</param>
    /// <param name="s1">Token 1's integer sums.</param>
    /// <param name="s2">Token 2's integer sums.</param>
    /// <param name="s3">Token 3's integer sums.</param>
    /// <param name="s4">Token 4's integer sums.</param>
    /// <param name="s5">Token 5's integer sums.</param>
    /// <param name="s6">Token 6's integer sums.</param>
    /// <param name="s7">Token 7's integer sums.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Pair8(
        Vector256<byte> qa, Vector256<byte> qb, byte* a, long stride, Vector256<short> scalesA, Vector256<short> scalesB,
        ref Vector256<int> s0, ref Vector256<int> s1, ref Vector256<int> s2, ref Vector256<int> s3,
        ref Vector256<int> s4, ref Vector256<int> s5, ref Vector256<int> s6, ref Vector256<int> s7)
    {
        s0 += PairSum(qa, qb, a, scalesA, scalesB);
        s1 += PairSum(qa, qb, a + stride, scalesA, scalesB);
        s2 += PairSum(qa, qb, a + (2 * stride), scalesA, scalesB);
        s3 += PairSum(qa, qb, a + (3 * stride), scalesA, scalesB);
        s4 += PairSum(qa, qb, a + (4 * stride), scalesA, scalesB);
        s5 += PairSum(qa, qb, a + (5 * stride), scalesA, scalesB);
        s6 += PairSum(qa, qb, a + (6 * stride), scalesA, scalesB);
        s7 += PairSum(qa, qb, a + (7 * stride), scalesA, scalesB);
    }

    /// <summary>Σ sc·q·a of two value vectors with one token's 64 activations at <paramref name="a"/>, as 8 int32 partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> PairSum(Vector256<byte> qa, Vector256<byte> qb, byte* a, Vector256<short> scalesA, Vector256<short> scalesB) =>
        QuantSimd.DotUInt8Scaled(qa, Vector256.Load((sbyte*)a), scalesA) + QuantSimd.DotUInt8Scaled(qb, Vector256.Load((sbyte*)(a + 32)), scalesB);

    /// <summary>
    /// A token's float steps for super-block <paramref name="b"/>, the one sequence every Q6_K integer dot takes (one,
    /// four and eight tokens, 256 and 512 bits), so that their results are bit-identical:
    /// <c>offsets += float(sc · bsums) · d·d_a</c>, then <c>acc += float(sumi) · d·d_a</c>.
    /// </summary>
    /// <param name="sumi">The token's integer sums over the super-block (8 int32 lanes).</param>
    /// <param name="dw">The super-block's d (read once for all tokens).</param>
    /// <param name="scales">The super-block's 16 scales as int16.</param>
    /// <param name="x">The token's activations row.</param>
    /// <param name="b">The super-block.</param>
    /// <param name="acc">The token's float accumulator.</param>
    /// <param name="offsets">The token's accumulator of the offset terms.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void FloatStep(Vector256<int> sumi, float dw, Vector256<short> scales, ref byte x, int b, ref Vector256<float> acc, ref Vector256<float> offsets)
    {
        ref byte a = ref Unsafe.Add(ref x, b * BlockQ8_K.BlockBytes);
        float d = dw * Unsafe.ReadUnaligned<float>(ref a);
        var bsums = Vector256.LoadUnsafe(ref Unsafe.As<byte, short>(ref Unsafe.Add(ref a, 260)));
        offsets = Simd.MulAdd(Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(scales, bsums)), Vector256.Create(d), offsets);
        acc = Simd.MulAdd(Vector256.ConvertToSingle(sumi), Vector256.Create(d), acc);
    }
}
