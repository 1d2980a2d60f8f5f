using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Attention;

/// <summary>
/// The tiled path's score and value kernels in 512-bit vectors (<see cref="SimdWidth.V512"/>): 16 keys per vector for
/// the scores where the block size is a multiple of 16, 16 dimensions per vector for the values. Each output lane adds
/// the same products in the same order as the 256-bit kernels, so the results are the same bits; the 256-bit kernels
/// load and broadcast twice as often for the same multiply-adds.
/// </summary>
public static unsafe partial class PagedAttention
{
    /// <summary><see cref="ScoreRows4"/> 16 keys at a time (bs a multiple of 16).</summary>
    private static void ScoreRows4Wide(float* qa, float* qb, float* qc, float* qd, float* keys, int hd, int bs, float scale, float* scores, int stride)
    {
        for (int k0 = 0; k0 < bs; k0 += 16)
        {
            float* kb = keys + k0;
            Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
            for (int d = 0; d < hd; d += 2)
            {
                var k0v = Vector512.Load(kb + ((long)d * bs));
                var k1v = Vector512.Load(kb + ((long)(d + 1) * bs));
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(qa[d]), k0v, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(qa[d + 1]), k1v, a1);
                b0 = Vector512.FusedMultiplyAdd(Vector512.Create(qb[d]), k0v, b0);
                b1 = Vector512.FusedMultiplyAdd(Vector512.Create(qb[d + 1]), k1v, b1);
                c0 = Vector512.FusedMultiplyAdd(Vector512.Create(qc[d]), k0v, c0);
                c1 = Vector512.FusedMultiplyAdd(Vector512.Create(qc[d + 1]), k1v, c1);
                d0 = Vector512.FusedMultiplyAdd(Vector512.Create(qd[d]), k0v, d0);
                d1 = Vector512.FusedMultiplyAdd(Vector512.Create(qd[d + 1]), k1v, d1);
            }

            ((a0 + a1) * scale).Store(scores + k0);
            ((b0 + b1) * scale).Store(scores + stride + k0);
            ((c0 + c1) * scale).Store(scores + (2 * stride) + k0);
            ((d0 + d1) * scale).Store(scores + (3 * stride) + k0);
        }
    }

    /// <summary><see cref="ScoreRows2"/> 16 keys at a time (bs a multiple of 16).</summary>
    private static void ScoreRows2Wide(float* qa, float* qb, float* keys, int hd, int bs, float scale, float* scores, int stride)
    {
        for (int k0 = 0; k0 < bs; k0 += 16)
        {
            float* kb = keys + k0;
            Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
            for (int d = 0; d < hd; d += 2)
            {
                var k0v = Vector512.Load(kb + ((long)d * bs));
                var k1v = Vector512.Load(kb + ((long)(d + 1) * bs));
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(qa[d]), k0v, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(qa[d + 1]), k1v, a1);
                b0 = Vector512.FusedMultiplyAdd(Vector512.Create(qb[d]), k0v, b0);
                b1 = Vector512.FusedMultiplyAdd(Vector512.Create(qb[d + 1]), k1v, b1);
            }

            ((a0 + a1) * scale).Store(scores + k0);
            ((b0 + b1) * scale).Store(scores + stride + k0);
        }
    }

    /// <summary>
    /// The part of <see cref="WeighValues2"/> where both rows have keys, for 32 dimensions from <paramref name="d0"/>:
    /// the outputs' lanes are read, accumulated over keys 0..<paramref name="both"/> − 1 in order and written back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeighValues2Wide(float* pa, float* pb, int both, float* values, int hd, int d0, float* outA, float* outB)
    {
        var a0 = Vector512.Load(outA + d0);
        var a1 = Vector512.Load(outA + d0 + 16);
        var b0 = Vector512.Load(outB + d0);
        var b1 = Vector512.Load(outB + d0 + 16);
        for (int j = 0; j < both; j++)
        {
            float* v = values + ((long)j * hd) + d0;
            var v0 = Vector512.Load(v);
            var v1 = Vector512.Load(v + 16);
            var wa = Vector512.Create(pa[j]);
            var wb = Vector512.Create(pb[j]);
            a0 = Vector512.FusedMultiplyAdd(wa, v0, a0);
            a1 = Vector512.FusedMultiplyAdd(wa, v1, a1);
            b0 = Vector512.FusedMultiplyAdd(wb, v0, b0);
            b1 = Vector512.FusedMultiplyAdd(wb, v1, b1);
        }

        a0.Store(outA + d0);
        a1.Store(outA + d0 + 16);
        b0.Store(outB + d0);
        b1.Store(outB + d0 + 16);
    }
}
