using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Attention;

/// <summary>
/// The tiled path's score and value kernels in 512-bit vectors (<see cref="SimdWidth.V512"/>): 16 keys per vector for
/// the scores where the block size is a multiple of 16, 16 dimensions per vector for the values, 64 of them a call. Each output lane adds
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
    /// <see cref="WeighValues2"/> over 64 dimensions from <paramref name="d0"/> at once: eight accumulators, where the
    /// 32-dimension slices had four and waited on each one's previous multiply-add (each lane's sum still runs over the
    /// keys in order, so the same bits).
    /// </summary>
    private static void WeighValues2Wide64(float* pa, int lenA, float* pb, int lenB, float* values, int hd, int d0, float* outA, float* outB)
    {
        if (lenA == 0 && lenB == 0)
        {
            return;
        }

        float* oa = outA + d0;
        float* ob = outB + d0;
        var a0 = Vector512.Load(oa);
        var a1 = Vector512.Load(oa + 16);
        var a2 = Vector512.Load(oa + 32);
        var a3 = Vector512.Load(oa + 48);
        var b0 = Vector512.Load(ob);
        var b1 = Vector512.Load(ob + 16);
        var b2 = Vector512.Load(ob + 32);
        var b3 = Vector512.Load(ob + 48);
        int both = Math.Min(lenA, lenB);
        for (int j = 0; j < both; j++)
        {
            float* v = values + ((long)j * hd) + d0;
            var v0 = Vector512.Load(v);
            var v1 = Vector512.Load(v + 16);
            var v2 = Vector512.Load(v + 32);
            var v3 = Vector512.Load(v + 48);
            var wa = Vector512.Create(pa[j]);
            var wb = Vector512.Create(pb[j]);
            a0 = Vector512.FusedMultiplyAdd(wa, v0, a0);
            a1 = Vector512.FusedMultiplyAdd(wa, v1, a1);
            a2 = Vector512.FusedMultiplyAdd(wa, v2, a2);
            a3 = Vector512.FusedMultiplyAdd(wa, v3, a3);
            b0 = Vector512.FusedMultiplyAdd(wb, v0, b0);
            b1 = Vector512.FusedMultiplyAdd(wb, v1, b1);
            b2 = Vector512.FusedMultiplyAdd(wb, v2, b2);
            b3 = Vector512.FusedMultiplyAdd(wb, v3, b3);
        }

        for (int j = both; j < lenA; j++)
        {
            Accumulate64(Vector512.Create(pa[j]), values + ((long)j * hd) + d0, ref a0, ref a1, ref a2, ref a3);
        }

        for (int j = both; j < lenB; j++)
        {
            Accumulate64(Vector512.Create(pb[j]), values + ((long)j * hd) + d0, ref b0, ref b1, ref b2, ref b3);
        }

        a0.Store(oa);
        a1.Store(oa + 16);
        a2.Store(oa + 32);
        a3.Store(oa + 48);
        b0.Store(ob);
        b1.Store(ob + 16);
        b2.Store(ob + 32);
        b3.Store(ob + 48);
    }

    /// <summary><see cref="WeighValues1"/> over 64 dimensions from <paramref name="d0"/> at once (the same bits).</summary>
    private static void WeighValues1Wide64(float* p, int len, float* values, int hd, int d0, float* output)
    {
        float* o = output + d0;
        var a0 = Vector512.Load(o);
        var a1 = Vector512.Load(o + 16);
        var a2 = Vector512.Load(o + 32);
        var a3 = Vector512.Load(o + 48);
        for (int j = 0; j < len; j++)
        {
            Accumulate64(Vector512.Create(p[j]), values + ((long)j * hd) + d0, ref a0, ref a1, ref a2, ref a3);
        }

        a0.Store(o);
        a1.Store(o + 16);
        a2.Store(o + 32);
        a3.Store(o + 48);
    }

    /// <summary>acc += w · v for 64 values from <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate64(Vector512<float> w, float* v, ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        a0 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v), a0);
        a1 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v + 16), a1);
        a2 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v + 32), a2);
        a3 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v + 48), a3);
    }
}
