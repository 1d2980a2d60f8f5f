using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The 512-bit dot products of <see cref="Q8_0Activations"/>: two blocks per zmm for the integer products, the rest as
/// on AVX2, so that each result is bit-identical to the 256-bit kernel's.
/// </summary>
/// <remarks>
/// <code>
/// group of four blocks:  q02 = [q0 | q2]   q13 = [q1 | q3]       (weights, 32 bytes a block)
///                        s02 = [s0 | s2]   s13 = [s1 | s3]       (8 int32 partial sums a block)
/// in-lane pair add:      [s0 s0 s1 s1 | s0 s0 s1 s1 | s2 s2 s3 s3 | s2 s2 s3 s3]
///                        = [hadd(s0, s1) | hadd(s2, s3)], exactly the AVX2 kernel's first level
/// then its second level, offset, conversion and FMA unchanged (<see cref="AccumulateFolded{TWeights}"/>).
/// </code>
/// The integer sums are exact and land in the same lanes as on AVX2, and the float operations are the same ones in the
/// same order, so 512 and 256 give the same bits (tested), and so do the four-token and one-token kernels.
/// </remarks>
internal static partial class Q8_0Activations
{
    /// <summary>The 512-bit body of <see cref="Dot{TWeights}"/> (AVX-512, or emulated on AVX2 halves).</summary>
    private static float Dot512<TWeights>(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks)
        where TWeights : struct, IQ8_0Weights
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref byte x = ref MemoryMarshal.GetReference(activations);
        ref float scales = ref Unsafe.As<byte, float>(ref Unsafe.Add(ref x, blocks * BlockQ8_0.BlockBytes));
        ref int sums = ref Unsafe.As<float, int>(ref Unsafe.Add(ref scales, blocks));
        int wb = TWeights.BlockBytes;
        const int ab = BlockQ8_0.BlockBytes;
        var acc = Vector256<float>.Zero;
        int b = 0;
        for (; b + 4 <= blocks; b += 4)
        {
            ref byte w = ref Unsafe.Add(ref r, b * wb);
            Simd.PrefetchAhead(ref w, 4 * TWeights.BlockBytes);
            Unpack4<TWeights>(ref w, out var q02, out var q13);
            var d = QuantSimd.ReadHalves4(ref w, wb) * Vector128.LoadUnsafe(ref Unsafe.Add(ref scales, b));
            acc = AccumulateFour512<TWeights>(q02, q13, ref Unsafe.Add(ref x, b * ab), ref Unsafe.Add(ref sums, b), d, acc);
        }

        return Vector256.Sum(acc + BlockTail<TWeights>(ref r, ref x, b, blocks));
    }

    /// <summary>The 512-bit body of <see cref="Dot4{TWeights}"/>: each token's arithmetic is <see cref="Dot512{TWeights}"/>'s.</summary>
    private static unsafe void Dot4x512<TWeights>(byte* row, byte* activations, long stride, int blocks, float* results)
        where TWeights : struct, IQ8_0Weights
    {
        int wb = TWeights.BlockBytes;
        const int ab = BlockQ8_0.BlockBytes;
        long scalesAt = (long)blocks * ab;
        long sumsAt = scalesAt + ((long)blocks * sizeof(float));
        var acc = stackalloc Vector256<float>[4];
        for (int t = 0; t < 4; t++)
        {
            acc[t] = Vector256<float>.Zero;
        }

        int b = 0;
        for (; b + 4 <= blocks; b += 4)
        {
            byte* w = row + ((long)b * wb);
            Unpack4<TWeights>(ref *w, out var q02, out var q13);
            var dw = QuantSimd.ReadHalves4(ref *w, wb);
            for (int t = 0; t < 4; t++)
            {
                byte* x = activations + (t * stride);
                var d = dw * Vector128.Load((float*)(x + scalesAt) + b);
                acc[t] = AccumulateFour512<TWeights>(q02, q13, ref *(x + ((long)b * ab)), ref *((int*)(x + sumsAt) + b), d, acc[t]);
            }
        }

        for (int t = 0; t < 4; t++)
        {
            results[t] = Vector256.Sum(acc[t] + BlockTail<TWeights>(ref *row, ref *(activations + (t * stride)), b, blocks));
        }
    }

    /// <summary>Four weight blocks unpacked as <c>[q0 | q2]</c> and <c>[q1 | q3]</c> (the pairing the fold needs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack4<TWeights>(ref byte w, out Vector512<byte> q02, out Vector512<byte> q13)
        where TWeights : struct, IQ8_0Weights
    {
        int wb = TWeights.BlockBytes;
        q02 = Int8Simd.Combine(TWeights.Unpack(ref w), TWeights.Unpack(ref Unsafe.Add(ref w, 2 * wb)));
        q13 = Int8Simd.Combine(TWeights.Unpack(ref Unsafe.Add(ref w, wb)), TWeights.Unpack(ref Unsafe.Add(ref w, 3 * wb)));
    }

    /// <summary>
    /// <see cref="AccumulateFour{TWeights}"/> with the integer products at 512 bits (see the type's remarks): the same
    /// folded sums, hence the same result bits.
    /// </summary>
    /// <param name="q02">Blocks 0 and 2 unpacked (<see cref="Unpack4{TWeights}"/>).</param>
    /// <param name="q13">Blocks 1 and 3.</param>
    /// <param name="a">The token's Q8_0 block 0 (fp16 scale, then 32 quants; blocks 1–3 follow).</param>
    /// <param name="sums">The activations' sum of block 0 (those of blocks 1–3 follow).</param>
    /// <param name="d">The four blocks' scale products d_w · d_a.</param>
    /// <param name="acc">The running sum.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AccumulateFour512<TWeights>(
        Vector512<byte> q02, Vector512<byte> q13, ref byte a, ref int sums, Vector128<float> d, Vector256<float> acc)
        where TWeights : struct, IQ8_0Weights
    {
        const int ab = BlockQ8_0.BlockBytes;
        var a02 = Int8Simd.Combine(Vector256.LoadUnsafe(ref a, 2), Vector256.LoadUnsafe(ref a, 2 + (2 * ab))).AsSByte();
        var a13 = Int8Simd.Combine(Vector256.LoadUnsafe(ref a, 2 + ab), Vector256.LoadUnsafe(ref a, 2 + (3 * ab))).AsSByte();
        var pairs = Int8Simd.HorizontalAdd(BlockSums512<TWeights>(q02, a02), BlockSums512<TWeights>(q13, a13));
        return AccumulateFolded<TWeights>(Avx2.HorizontalAdd(pairs.GetLower(), pairs.GetUpper()), ref sums, d, acc);
    }

    /// <summary>
    /// Two blocks' Σ q · qa as 16 int32 partial sums (8 a block), the offset (if any) not yet applied: unsigned weights
    /// straight into the u8 × s8 dot, signed ones (Q8_0) with their signs moved onto the activations
    /// (|w| ≤ 128 · |a| ≤ 127: no pair saturates, see <see cref="Int8Simd"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> BlockSums512<TWeights>(Vector512<byte> q, Vector512<sbyte> qa)
        where TWeights : struct, IQ8_0Weights =>
        TWeights.OffsetShift >= 0
            ? Int8Simd.DotSum(q, qa)
            : Int8Simd.DotSum(Int8Simd.Abs(q.AsSByte()), Int8Simd.SignForProduct(qa, q.AsSByte()));
}
