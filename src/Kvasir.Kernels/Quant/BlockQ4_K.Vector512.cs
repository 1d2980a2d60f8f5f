using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The 512-bit integer dot products of <see cref="BlockQ4_K"/> with Q8_K activations: a whole chunk (64 elements, both
/// sub-blocks) per zmm, the rest as on AVX2, so that each result is bit-identical to the 256-bit kernel's.
/// </summary>
/// <remarks>
/// <code>
/// chunk c:  w = [low nibbles | high nibbles]     a = activations 64c .. 64c+63 (one load)
///           scale = [sc[2c] in lanes 0-1 | sc[2c+1] in lanes 2-3]   (int16, by an in-lane byte shuffle)
///           vpmaddwd(vpmaddubsw(w, a), scale) = [AVX2's low-nibble sum | AVX2's high-nibble sum]
/// super-block:  Σ_c over 16 int32 lanes, then lower + upper = AVX2's 8 int32 lanes (exact integers)
/// </code>
/// The float steps (conversion, the FMA per super-block, the mins) are AVX2's, in the same order.
/// </remarks>
internal static partial class BlockQ4_K
{
    /// <summary>The 512-bit body of <see cref="DotQ8_K"/> (AVX-512, or emulated on AVX2 halves).</summary>
    /// <remarks>
    /// Written for the instruction count (one-token decode is this loop): the chunks' scale indices and the nibble
    /// shifts are built once outside the loop, a chunk splits into its nibbles with one broadcast, one variable shift
    /// and one and (<see cref="Int8Simd.SplitNibbles(byte*, Vector512{ushort})"/>), the pointers advance by a block
    /// instead of being multiplied out, and the float step takes d and dmin read from <see cref="QuantSimd.HalfToSingle"/>
    /// (<see cref="QuantSimd.ReadHalf(ref byte)"/>: two loads instead of ~15 instructions of vector widening). The
    /// results are unchanged, bit for bit. Zen 5, kbench 5632 × 2048, two threads, builds alternating six times (best
    /// times): rows in L2 32.7 → 26.6 µs, 40 copies from memory 216 → 192 µs; L Q4_K_M decode against llama.cpp
    /// 1.01–1.04× → 1.10–1.16×. (Earlier: ~120 instructions per super-block → 97, now ~85.)
    /// </remarks>
    private static unsafe float DotQ8_K512(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks)
    {
        fixed (byte* rp = row)
        {
            return DotQ8_K512Pinned(rp, activations, blocks);
        }
    }

    private static unsafe float DotQ8_K512Pinned(byte* rp, ReadOnlySpan<byte> activations, int blocks)
    {
        fixed (byte* xp = activations)
        {
            var acc = Vector256<float>.Zero;
            var mins = Vector128<float>.Zero;
            var index0 = ChunkScaleIndices(0);
            var index1 = ChunkScaleIndices(1);
            var index2 = ChunkScaleIndices(2);
            var index3 = ChunkScaleIndices(3);
            var shifts = Int8Simd.NibbleShifts();
            byte* block = rp;
            byte* a = xp;
            short* pairSums = (short*)Unsafe.AsPointer(ref Q8_KActivations.PairSums(ref *xp, blocks, 0));
            for (int b = 0; b < blocks; b++, block += BlockBytes, a += BlockQ8_K.BlockBytes, pairSums += 8)
            {
                Simd.PrefetchAhead(block, BlockBytes);
                var scalesAndMins = UnpackScalesAndMins(ref *(block + 4)); // int16: sc[0..7], m[0..7]
                var scales = Int8Simd.InAllLanes(scalesAndMins.GetLower());
                byte* q = block + 16;
                var sumi = ChunkSum512(Int8Simd.SplitNibbles(q, shifts), ref *(a + 4), Int8Simd.ShuffleInLanes(scales, index0).AsInt16());
                sumi += ChunkSum512(Int8Simd.SplitNibbles(q + 32, shifts), ref *(a + 68), Int8Simd.ShuffleInLanes(scales, index1).AsInt16());
                sumi += ChunkSum512(Int8Simd.SplitNibbles(q + 64, shifts), ref *(a + 132), Int8Simd.ShuffleInLanes(scales, index2).AsInt16());
                sumi += ChunkSum512(Int8Simd.SplitNibbles(q + 96, shifts), ref *(a + 196), Int8Simd.ShuffleInLanes(scales, index3).AsInt16());

                // The two products as scalars rather than through HalvesPair's vector: the same products, the same bits.
                float da = *(float*)a;
                float d = QuantSimd.ReadHalf(ref *block) * da;
                float dmin = QuantSimd.ReadHalf(ref *(block + 2)) * da;
                FloatStep(sumi.GetLower() + sumi.GetUpper(), d, dmin, scalesAndMins, ref *pairSums, ref acc, ref mins);
            }

            return Vector256.Sum(acc) - Vector128.Sum(mins);
        }
    }

    /// <summary>The 512-bit body of <see cref="DotQ8_K4"/>: each token's arithmetic is <see cref="DotQ8_K512"/>'s.</summary>
    private static unsafe void DotQ8_K4x512(byte* row, byte* activations, long stride, int blocks, float* results)
    {
        byte* x0 = activations;
        byte* x1 = x0 + stride;
        byte* x2 = x1 + stride;
        byte* x3 = x2 + stride;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector128<float> mins0 = default, mins1 = default, mins2 = default, mins3 = default;
        for (int b = 0; b < blocks; b++)
        {
            byte* block = row + ((long)b * BlockBytes);
            long offset = (long)b * BlockQ8_K.BlockBytes;
            byte* a0 = x0 + offset, a1 = x1 + offset, a2 = x2 + offset, a3 = x3 + offset;
            var scalesAndMins = UnpackScalesAndMins(ref *(block + 4));
            var scales = Int8Simd.InAllLanes(scalesAndMins.GetLower());
            Vector512<int> sumi0 = default, sumi1 = default, sumi2 = default, sumi3 = default;
            for (int c = 0; c < 4; c++)
            {
                var w = Int8Simd.SplitNibbles(block + 16 + (32 * c));
                var scale = ChunkScales(scales, c);
                int at = 4 + (64 * c);
                sumi0 += ChunkSum512(w, ref *(a0 + at), scale);
                sumi1 += ChunkSum512(w, ref *(a1 + at), scale);
                sumi2 += ChunkSum512(w, ref *(a2 + at), scale);
                sumi3 += ChunkSum512(w, ref *(a3 + at), scale);
            }

            var dd = HalvesPair(block); // [d, dmin, 0, 0]
            FloatStep(sumi0.GetLower() + sumi0.GetUpper(), dd, scalesAndMins, ref *x0, blocks, b, ref acc0, ref mins0);
            FloatStep(sumi1.GetLower() + sumi1.GetUpper(), dd, scalesAndMins, ref *x1, blocks, b, ref acc1, ref mins1);
            FloatStep(sumi2.GetLower() + sumi2.GetUpper(), dd, scalesAndMins, ref *x2, blocks, b, ref acc2, ref mins2);
            FloatStep(sumi3.GetLower() + sumi3.GetUpper(), dd, scalesAndMins, ref *x3, blocks, b, ref acc3, ref mins3);
        }

        results[0] = Vector256.Sum(acc0) - Vector128.Sum(mins0);
        results[1] = Vector256.Sum(acc1) - Vector128.Sum(mins1);
        results[2] = Vector256.Sum(acc2) - Vector128.Sum(mins2);
        results[3] = Vector256.Sum(acc3) - Vector128.Sum(mins3);
    }

    /// <summary>Scale 2c in all int16 lanes of the lower 256 bits, scale 2c + 1 in the upper (<paramref name="scales"/>: <see cref="Int8Simd.InAllLanes"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<short> ChunkScales(Vector512<byte> scales, int c) =>
        Int8Simd.ShuffleInLanes(scales, ChunkScaleIndices(c)).AsInt16();

    /// <summary>The byte indices that <see cref="ChunkScales"/> shuffles with.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> ChunkScaleIndices(int c)
    {
        int s = 2 * c;
        return Vector512.Create(
            Vector256.Create((short)((2 * s) | (((2 * s) + 1) << 8))),
            Vector256.Create((short)((2 * (s + 1)) | (((2 * (s + 1)) + 1) << 8)))).AsByte();
    }

    /// <summary>Σ sc·q·a of a chunk (<see cref="Int8Simd.SplitNibbles(byte*)"/>) with one token's 64 activations: 16 int32 partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> ChunkSum512(Vector512<byte> w, ref byte a, Vector512<short> scale) =>
        Int8Simd.MultiplyAddAdjacent(Int8Simd.MultiplyAddAdjacent(w, Vector512.LoadUnsafe(ref a).AsSByte()), scale);
}
