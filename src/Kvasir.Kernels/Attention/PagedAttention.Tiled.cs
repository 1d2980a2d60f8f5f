using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Attention;

/// <summary>
/// The AVX2 + FMA path of an attention run (head dims that are multiples of 8): keys widened once per run into
/// blocks of 8 keys transposed (<c>[hd][8]</c>), so that a query row meets 8 keys per fused multiply-add with no
/// horizontal sums; values widened once into rows, and each output row accumulated in registers over the keys.
/// </summary>
/// <remarks>
/// A row's arithmetic (the order of every sum) does not depend on which other rows share its run, so a token gives
/// the same bits alone (<see cref="PagedAttention.Attend(in KvLayerView, ReadOnlySpan{float}, int, ReadOnlySpan{int}, int, float, Span{float}, Span{float})"/>)
/// as in a batch.
/// <code>
///  scores[r, 8b + jj] = Σ_d q_r[d] · keys[b][d, jj]      (two partial sums per row: even and odd d)
///  out_r[d]          = Σ_{j &lt; len_r} p[r, j] · values[j, d]
/// </code>
/// </remarks>
public static unsafe partial class PagedAttention
{
    /// <summary>Per-thread scratch of the tiled path: transposed keys, then value rows, then the scores.</summary>
    [ThreadStatic]
    private static float[]? _tiledScratch;

    private static void AttendRunTiled(
        in KvLayerView layer, float* q, float* output, int nHeads, int count, int* lengths, ReadOnlySpan<int> blockTable, float scale, int g)
    {
        int hd = layer.HeadDim;
        int group = nHeads / layer.NumKvHeads;
        int tokenWidth = nHeads * hd;
        int maxLen = MaxLength(lengths, count);

        int keyBlocks = (maxLen + 7) / 8;
        int stride = keyBlocks * 8;          // scores row stride
        int rows = count * group;
        long keyFloats = (long)keyBlocks * hd * 8;
        long need = keyFloats + ((long)maxLen * hd) + ((long)rows * stride);
        float[] scratch = _tiledScratch is { } s && s.Length >= need ? s : (_tiledScratch = new float[Math.Max(need, 1 << 14)]);
        fixed (float* buffer = scratch)
        {
            float* keys = buffer;                  // [keyBlocks][hd][8]
            float* values = buffer + keyFloats;    // [maxLen][hd]
            float* scores = values + ((long)maxLen * hd); // [rows][stride]
            WidenKeysAndValues(layer, blockTable, g, maxLen, keys, values);

            // Pass 1: scores, four rows at a time.
            int r = 0;
            for (; r + 4 <= rows; r += 4)
            {
                ScoreRows4(QueryRow(q, r, group, hd, tokenWidth, g), QueryRow(q, r + 1, group, hd, tokenWidth, g),
                    QueryRow(q, r + 2, group, hd, tokenWidth, g), QueryRow(q, r + 3, group, hd, tokenWidth, g),
                    keys, keyBlocks, hd, scale, scores + ((long)r * stride), stride);
            }

            for (; r < rows; r++)
            {
                ScoreRow(QueryRow(q, r, group, hd, tokenWidth, g), keys, keyBlocks, hd, scale, scores + ((long)r * stride));
            }

            for (r = 0; r < rows; r++)
            {
                Ops.Softmax(new Span<float>(scores + ((long)r * stride), lengths[r / group]), SimdWidth.V256);
            }

            // Pass 2: each output row from its probabilities and the value rows, two rows at a time.
            r = 0;
            for (; r + 2 <= rows; r += 2)
            {
                int lenA = lengths[r / group];
                int lenB = lengths[(r + 1) / group];
                float* outA = QueryRow(output, r, group, hd, tokenWidth, g);
                float* outB = QueryRow(output, r + 1, group, hd, tokenWidth, g);
                for (int d0 = 0; d0 < hd; d0 += 32)
                {
                    WeighValues2(scores + ((long)r * stride), lenA, scores + ((long)(r + 1) * stride), lenB, values, hd, d0, Math.Min(32, hd - d0), outA, outB);
                }
            }

            for (; r < rows; r++)
            {
                float* outR = QueryRow(output, r, group, hd, tokenWidth, g);
                for (int d0 = 0; d0 < hd; d0 += 32)
                {
                    WeighValues1(scores + ((long)r * stride), lengths[r / group], values, hd, d0, Math.Min(32, hd - d0), outR);
                }
            }
        }
    }

    /// <summary>Row r of a run (token r / group, head g · group + r % group) in a [count, nHeads, hd] layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* QueryRow(float* basePtr, int r, int group, int hd, int tokenWidth, int g) =>
        basePtr + ((long)(r / group) * tokenWidth) + (((long)(g * group) + (r % group)) * hd);

    /// <summary>Keys [0, maxLen) of head g widened into 8-key blocks transposed (zeros past maxLen), values into rows.</summary>
    private static void WidenKeysAndValues(in KvLayerView layer, ReadOnlySpan<int> blockTable, int g, int maxLen, float* keys, float* values)
    {
        int hd = layer.HeadDim;
        int rowBytes = hd * layer.ElementBytes;
        bool f16 = layer.DataType == KvDataType.F16;
        Span<float> row = stackalloc float[hd];
        for (int j0 = 0; j0 < maxLen; j0 += layer.BlockSize)
        {
            byte* kTile = layer.HeadTile(layer.K, blockTable[j0 / layer.BlockSize], g);
            byte* vTile = layer.HeadTile(layer.V, blockTable[j0 / layer.BlockSize], g);
            int inBlock = Math.Min(layer.BlockSize, maxLen - j0);
            for (int o = 0; o < inBlock; o++)
            {
                int j = j0 + o;
                float* dst = keys + ((long)(j / 8) * hd * 8) + (j % 8);
                ReadOnlySpan<float> key = Row(kTile + ((long)o * rowBytes), hd, f16, row, SimdWidth.V256);
                for (int d = 0; d < hd; d++)
                {
                    dst[d * 8] = key[d];
                }

                var valueRow = new Span<float>(values + ((long)j * hd), hd);
                if (f16)
                {
                    RowF16.Dequantize(new ReadOnlySpan<byte>(vTile + ((long)o * rowBytes), rowBytes), valueRow, SimdWidth.V256);
                }
                else
                {
                    new ReadOnlySpan<float>(vTile + ((long)o * rowBytes), hd).CopyTo(valueRow);
                }
            }
        }

        for (int j = maxLen; j % 8 != 0; j++)
        {
            float* dst = keys + ((long)(j / 8) * hd * 8) + (j % 8);
            for (int d = 0; d < hd; d++)
            {
                dst[d * 8] = 0;
            }
        }
    }

    /// <summary>Scores of one query row against every key block (two partial sums per block: even and odd d).</summary>
    private static void ScoreRow(float* qa, float* keys, int keyBlocks, int hd, float scale, float* scores)
    {
        for (int b = 0; b < keyBlocks; b++)
        {
            float* kb = keys + ((long)b * hd * 8);
            Vector256<float> a0 = default, a1 = default;
            for (int d = 0; d < hd; d += 2)
            {
                a0 = Fma.MultiplyAdd(Vector256.Create(qa[d]), Vector256.Load(kb + (d * 8)), a0);
                a1 = Fma.MultiplyAdd(Vector256.Create(qa[d + 1]), Vector256.Load(kb + ((d + 1) * 8)), a1);
            }

            ((a0 + a1) * scale).Store(scores + (b * 8));
        }
    }

    /// <summary>Four rows of <see cref="ScoreRow"/> sharing each key load: the same arithmetic per row.</summary>
    private static void ScoreRows4(float* qa, float* qb, float* qc, float* qd, float* keys, int keyBlocks, int hd, float scale, float* scores, int stride)
    {
        for (int b = 0; b < keyBlocks; b++)
        {
            float* kb = keys + ((long)b * hd * 8);
            Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
            for (int d = 0; d < hd; d += 2)
            {
                var k0 = Vector256.Load(kb + (d * 8));
                var k1 = Vector256.Load(kb + ((d + 1) * 8));
                a0 = Fma.MultiplyAdd(Vector256.Create(qa[d]), k0, a0);
                a1 = Fma.MultiplyAdd(Vector256.Create(qa[d + 1]), k1, a1);
                b0 = Fma.MultiplyAdd(Vector256.Create(qb[d]), k0, b0);
                b1 = Fma.MultiplyAdd(Vector256.Create(qb[d + 1]), k1, b1);
                c0 = Fma.MultiplyAdd(Vector256.Create(qc[d]), k0, c0);
                c1 = Fma.MultiplyAdd(Vector256.Create(qc[d + 1]), k1, c1);
                d0 = Fma.MultiplyAdd(Vector256.Create(qd[d]), k0, d0);
                d1 = Fma.MultiplyAdd(Vector256.Create(qd[d + 1]), k1, d1);
            }

            ((a0 + a1) * scale).Store(scores + (b * 8));
            ((b0 + b1) * scale).Store(scores + stride + (b * 8));
            ((c0 + c1) * scale).Store(scores + (2 * stride) + (b * 8));
            ((d0 + d1) * scale).Store(scores + (3 * stride) + (b * 8));
        }
    }

    /// <summary>out[d0 .. d0 + dims) = Σ_{j &lt; len} p[j] · values[j, d0 ..] for one row (dims ≤ 32, a multiple of 8).</summary>
    private static void WeighValues1(float* p, int len, float* values, int hd, int d0, int dims, float* output)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int j = 0; j < len; j++)
        {
            Accumulate(Vector256.Create(p[j]), values + ((long)j * hd) + d0, dims, ref a0, ref a1, ref a2, ref a3);
        }

        Store(output + d0, dims, a0, a1, a2, a3);
    }

    /// <summary>Two rows of <see cref="WeighValues1"/> sharing each value load (each row only over its own length).</summary>
    private static void WeighValues2(float* pa, int lenA, float* pb, int lenB, float* values, int hd, int d0, int dims, float* outA, float* outB)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int both = Math.Min(lenA, lenB);
        int j = 0;
        if (dims == 32)
        {
            for (; j < both; j++)
            {
                float* v = values + ((long)j * hd) + d0;
                var v0 = Vector256.Load(v);
                var v1 = Vector256.Load(v + 8);
                var v2 = Vector256.Load(v + 16);
                var v3 = Vector256.Load(v + 24);
                var wa = Vector256.Create(pa[j]);
                var wb = Vector256.Create(pb[j]);
                a0 = Fma.MultiplyAdd(wa, v0, a0);
                a1 = Fma.MultiplyAdd(wa, v1, a1);
                a2 = Fma.MultiplyAdd(wa, v2, a2);
                a3 = Fma.MultiplyAdd(wa, v3, a3);
                b0 = Fma.MultiplyAdd(wb, v0, b0);
                b1 = Fma.MultiplyAdd(wb, v1, b1);
                b2 = Fma.MultiplyAdd(wb, v2, b2);
                b3 = Fma.MultiplyAdd(wb, v3, b3);
            }
        }

        for (int ja = j; ja < lenA; ja++)
        {
            Accumulate(Vector256.Create(pa[ja]), values + ((long)ja * hd) + d0, dims, ref a0, ref a1, ref a2, ref a3);
        }

        for (int jb = j; jb < lenB; jb++)
        {
            Accumulate(Vector256.Create(pb[jb]), values + ((long)jb * hd) + d0, dims, ref b0, ref b1, ref b2, ref b3);
        }

        Store(outA + d0, dims, a0, a1, a2, a3);
        Store(outB + d0, dims, b0, b1, b2, b3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(Vector256<float> w, float* v, int dims, ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3)
    {
        a0 = Fma.MultiplyAdd(w, Vector256.Load(v), a0);
        if (dims > 8)
        {
            a1 = Fma.MultiplyAdd(w, Vector256.Load(v + 8), a1);
        }

        if (dims > 16)
        {
            a2 = Fma.MultiplyAdd(w, Vector256.Load(v + 16), a2);
        }

        if (dims > 24)
        {
            a3 = Fma.MultiplyAdd(w, Vector256.Load(v + 24), a3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* dst, int dims, Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3)
    {
        a0.Store(dst);
        if (dims > 8)
        {
            a1.Store(dst + 8);
        }

        if (dims > 16)
        {
            a2.Store(dst + 16);
        }

        if (dims > 24)
        {
            a3.Store(dst + 24);
        }
    }
}
