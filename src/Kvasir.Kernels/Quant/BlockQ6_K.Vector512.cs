using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The 512-bit integer dot products of <see cref="BlockQ6_K"/> with Q8_K activations: 64 elements (four sub-blocks of
/// 16) per zmm, the rest as on AVX2, so that each result is bit-identical to the 256-bit kernel's.
/// </summary>
/// <remarks>
/// <code>
/// half h:  q01 = [q0 | q1]  with activations 0..63 of the half,   scales [sc0 | sc1 | sc2 | sc3] (one per 128-bit lane)
///          q23 = [q2 | q3]  with activations 64..127,             scales [sc4 | sc5 | sc6 | sc7]
///          (q0..q3 as AVX2's Unpack builds them: ql nibbles and qh bit pairs, unsigned 0..63)
/// super-block:  Σ over both halves in 16 int32 lanes, then lower + upper = AVX2's 8 int32 lanes (exact integers)
/// </code>
/// The offset of 32 (through the block sums), the conversion and the FMA per super-block are AVX2's, in the same order.
/// </remarks>
internal static partial class BlockQ6_K
{
    /// <summary>The 512-bit body of <see cref="DotQ8_K"/> (AVX-512, or emulated on AVX2 halves).</summary>
    private static float DotQ8_K512(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks)
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref byte x = ref MemoryMarshal.GetReference(activations);
        var acc = Vector256<float>.Zero;
        var offsets = Vector256<float>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            Simd.PrefetchAhead(ref block, BlockBytes);
            ref byte a = ref Unsafe.Add(ref x, b * BlockQ8_K.BlockBytes);
            var scales = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 192)).AsSByte()); // sc[0..15]
            var low = Int8Simd.InAllLanes(scales.GetLower());
            var high = Int8Simd.InAllLanes(scales.GetUpper());
            Unpack512(ref block, ref Unsafe.Add(ref block, 128), out var q01, out var q23);
            var sumi = HalfSum512(q01, q23, ref Unsafe.Add(ref a, 4), QuadScales(low, 0), QuadScales(low, 4));
            Unpack512(ref Unsafe.Add(ref block, 64), ref Unsafe.Add(ref block, 160), out q01, out q23);
            sumi += HalfSum512(q01, q23, ref Unsafe.Add(ref a, 132), QuadScales(high, 0), QuadScales(high, 4));
            FloatStep(sumi.GetLower() + sumi.GetUpper(), QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 208)), scales, ref x, b, ref acc, ref offsets);
        }

        return Vector256.Sum(acc) - (32 * Vector256.Sum(offsets));
    }

    /// <summary>The 512-bit body of <see cref="DotQ8_K4"/>: each token's arithmetic is <see cref="DotQ8_K512"/>'s.</summary>
    private static unsafe void DotQ8_K4x512(byte* row, byte* activations, long stride, int blocks, float* results)
    {
        var acc = stackalloc Vector256<float>[4];
        var offsets = stackalloc Vector256<float>[4];
        for (int t = 0; t < 4; t++)
        {
            acc[t] = Vector256<float>.Zero;
            offsets[t] = Vector256<float>.Zero;
        }

        for (int b = 0; b < blocks; b++)
        {
            byte* block = row + ((long)b * BlockBytes);
            var scales = Avx2.ConvertToVector256Int16(Vector128.Load((sbyte*)(block + 192)));
            var low = Int8Simd.InAllLanes(scales.GetLower());
            var high = Int8Simd.InAllLanes(scales.GetUpper());
            var s0 = QuadScales(low, 0);
            var s1 = QuadScales(low, 4);
            var s2 = QuadScales(high, 0);
            var s3 = QuadScales(high, 4);
            Unpack512(ref *block, ref *(block + 128), out var q01, out var q23);
            Unpack512(ref *(block + 64), ref *(block + 160), out var q45, out var q67);
            float dw = QuantSimd.ReadHalf(ref *(block + 208));
            for (int t = 0; t < 4; t++)
            {
                byte* x = activations + (t * stride);
                byte* a = x + ((long)b * BlockQ8_K.BlockBytes);
                var sumi = HalfSum512(q01, q23, ref *(a + 4), s0, s1) + HalfSum512(q45, q67, ref *(a + 132), s2, s3);
                FloatStep(sumi.GetLower() + sumi.GetUpper(), dw, scales, ref *x, b, ref acc[t], ref offsets[t]);
            }
        }

        for (int t = 0; t < 4; t++)
        {
            results[t] = Vector256.Sum(acc[t]) - (32 * Vector256.Sum(offsets[t]));
        }
    }

    /// <summary>
    /// A half's 128 unsigned 6-bit values (0..63) as <c>[q0 | q1]</c> and <c>[q2 | q3]</c>, the vectors of AVX2's
    /// Unpack side by side: the half's 64 ql bytes in one load, its 32 qh bytes shifted per 256-bit half.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack512(ref byte ql, ref byte qh, out Vector512<byte> q01, out Vector512<byte> q23)
    {
        var nibble = Vector512.Create((byte)0x0F);
        var bits = Vector512.Create((byte)0x30);
        var low = Vector512.LoadUnsafe(ref ql);
        var high = Vector256.LoadUnsafe(ref qh).AsUInt16();

        // As in Unpack: 16-bit shifts and one mask, since the bits a shift carries across a byte never land on bits 4-5.
        var high01 = Vector512.Create(high << 4, high << 2).AsByte();
        var high23 = Vector512.Create(high, high >> 2).AsByte();
        q01 = (low & nibble) | (high01 & bits);
        q23 = ((low.AsUInt16() >> 4).AsByte() & nibble) | (high23 & bits);
    }

    /// <summary>Σ sc·q·a of one half from <see cref="Unpack512"/>'s vectors and <see cref="QuadScales"/>: 16 int32 partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> HalfSum512(Vector512<byte> q01, Vector512<byte> q23, ref byte a, Vector512<short> scales01, Vector512<short> scales23) =>
        Int8Simd.MultiplyAddAdjacent(Int8Simd.MultiplyAddAdjacent(q01, Vector512.LoadUnsafe(ref a).AsSByte()), scales01)
        + Int8Simd.MultiplyAddAdjacent(Int8Simd.MultiplyAddAdjacent(q23, Vector512.LoadUnsafe(ref a, 64).AsSByte()), scales23);

    /// <summary>int16 scales for 64 elements: scale s + k (of the half's 8) in all lanes of 128-bit lane k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> QuadScales(Vector512<byte> scales, int s)
    {
        var indices = Vector512.Create(
            Vector256.Create(Vector128.Create(BytePair(s)), Vector128.Create(BytePair(s + 1))),
            Vector256.Create(Vector128.Create(BytePair(s + 2)), Vector128.Create(BytePair(s + 3)))).AsByte();
        return Int8Simd.ShuffleInLanes(scales, indices).AsInt16();
    }

    /// <summary>The shuffle indices of int16 element i: bytes 2i and 2i + 1.</summary>
    private static short BytePair(int i) => (short)((2 * i) | (((2 * i) + 1) << 8));
}
