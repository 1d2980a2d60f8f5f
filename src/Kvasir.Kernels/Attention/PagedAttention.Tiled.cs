using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Attention;

/// <summary>
/// The AVX2 + FMA path of an attention run (head dims and block sizes multiples of 8), one KV block at a time:
/// a block's K tile is stored transposed (<c>[hd][BlockSize]</c>, see <see cref="KvLayerView"/>), so a query row
/// meets 8 keys per fused multiply-add with no horizontal sums, reading the tile in place (F32) or widened whole
/// into a small per-thread buffer (F16: one contiguous conversion per tile, which stays in L1); then each output
/// row accumulates its probabilities times the block's value rows, read the same way.
/// </summary>
/// <remarks>
/// A row's arithmetic (the order of every sum) does not depend on which other rows share its run, so a token gives
/// the same bits alone (<see cref="PagedAttention.Attend(in KvLayerView, ReadOnlySpan{float}, int, ReadOnlySpan{int}, int, float, Span{float}, Span{float})"/>)
/// as in a batch.
/// <code>
///  scores[r, j]  = Σ_d q_r[d] · K[d, j]              (8 keys per vector; two partial sums per row: even and odd d)
///  out_r[d]      = Σ_{j &lt; len_r} p[r, j] · V[j, d]   (j in order, block after block, through the output row)
/// </code>
/// Measured on the development VM (2-core Zen 3, S shape, F16 cache, one decoding token at 512 tokens of context,
/// 30 layers): the previous layout (K by token, widened and transposed key by key into a run-wide scratch) took
/// ~5.8 ms per token on two threads; this one: see docs/kernels.md.
/// </remarks>
public static unsafe partial class PagedAttention
{
    /// <summary>Per-thread scratch of the tiled path: one widened tile (F16 caches), then the run's scores.</summary>
    [ThreadStatic]
    private static float[]? _tiledScratch;

    /// <summary>Per-thread row table of the tiled path: [rows] query pointers, [rows] output pointers, [rows] key counts, [rows] split flags.</summary>
    [ThreadStatic]
    private static nint[]? _tiledRows;

    /// <summary>
    /// KV head <paramref name="g"/>'s query rows of a run over keys [keyStart, keyStart + keyCount) (whole blocks). A row
    /// whose length fits in <paramref name="keyCount"/> (every row, when <paramref name="partial"/> is null) gets its
    /// normalized output; a longer row gets this segment's partial result in <paramref name="partial"/> for
    /// <see cref="MergeSegments"/>: the unnormalized sums Σ e_j · v_j, then the segment's largest score m and Σ e_j,
    /// where e_j = exp(s_j − m).
    /// </summary>
    /// <param name="layer">The KV arena view.</param>
    /// <param name="q">count × [nHeads, hd] queries.</param>
    /// <param name="output">count × [nHeads, hd] outputs.</param>
    /// <param name="nHeads">Query heads.</param>
    /// <param name="count">Tokens in the run.</param>
    /// <param name="lengths">[count] keys each token attends to.</param>
    /// <param name="blockTable">The run's block table.</param>
    /// <param name="scale">Score scale.</param>
    /// <param name="g">The KV head.</param>
    /// <param name="keyStart">First key of the segment (a multiple of BlockSize).</param>
    /// <param name="keyCount">Keys in a segment (int.MaxValue when the run is not split).</param>
    /// <param name="partial">count × [nHeads, hd + 2] partial rows of this segment, or null.</param>
    /// <param name="width">V512: the 512-bit score and value kernels (the same bits, see PagedAttention.Tiled512.cs).</param>
    private static void AttendRunTiled(
        in KvLayerView layer, float* q, float* output, int nHeads, int count, int* lengths, ReadOnlySpan<int> blockTable, float scale, int g,
        int keyStart, int keyCount, float* partial, SimdWidth width)
    {
        int hd = layer.HeadDim;
        int group = nHeads / layer.NumKvHeads;
        int tokenWidth = nHeads * hd;
        int rows = count * group;
        nint[] rowTable = _tiledRows is { } t && t.Length >= 4 * rows ? t : (_tiledRows = new nint[Math.Max(4 * rows, 64)]);
        fixed (nint* rowBase = rowTable)
        {
            // The run's rows that have keys in this segment (row r is token r / group, query head g · group + r % group):
            // query, output (or partial row), keys in the segment, and whether the output is partial.
            float** qRow = (float**)rowBase;
            float** outRow = (float**)(rowBase + rows);
            nint* len = rowBase + (2 * rows);
            nint* split = rowBase + (3 * rows);
            int active = 0;
            int maxLen = 0;
            for (int r = 0; r < rows; r++)
            {
                int token = r / group;
                long head = ((long)g * group) + (r % group);
                int rowLen = (int)Math.Clamp((long)lengths[token] - keyStart, 0, keyCount);
                bool isSplit = partial != null && lengths[token] > keyCount;
                float* outPtr = isSplit ? partial + (((token * (long)nHeads) + head) * (hd + 2)) : output + (token * (long)tokenWidth) + (head * hd);
                if (rowLen == 0)
                {
                    if (lengths[token] == 0 && keyStart == 0)
                    {
                        new Span<float>(outPtr, hd).Clear(); // no keys at all: a zero output, as the scalar path gives
                    }

                    continue;
                }

                qRow[active] = q + (token * (long)tokenWidth) + (head * hd);
                outRow[active] = outPtr;
                len[active] = rowLen;
                split[active] = isSplit ? 1 : 0;
                maxLen = Math.Max(maxLen, rowLen);
                active++;
            }

            if (active > 0)
            {
                AttendRows(layer, qRow, outRow, len, split, active, maxLen, blockTable, keyStart / layer.BlockSize, scale, g, width >= SimdWidth.V512);
            }
        }
    }

    /// <summary>The two passes of <see cref="AttendRunTiled"/> over its active rows, from block <paramref name="firstBlock"/> of the table.</summary>
    private static void AttendRows(
        in KvLayerView layer, float** qRow, float** outRow, nint* len, nint* split, int rows, int maxLen, ReadOnlySpan<int> blockTable,
        int firstBlock, float scale, int g, bool wide)
    {
        int hd = layer.HeadDim;
        int bs = layer.BlockSize;
        bool wideScores = wide && bs % 16 == 0;
        int blocks = (maxLen + bs - 1) / bs;
        int lastBlock = firstBlock + blocks;
        int stride = blocks * bs;            // scores row stride
        bool f16 = layer.DataType == KvDataType.F16;
        long tileFloats = f16 ? (long)bs * hd : 0;
        long need = tileFloats + ((long)rows * stride);
        float[] scratch = _tiledScratch is { } s && s.Length >= need ? s : (_tiledScratch = new float[Math.Max(need, 1 << 14)]);
        fixed (float* buffer = scratch)
        {
            float* widened = buffer;                 // [bs · hd] one F16 tile as floats
            float* scores = buffer + tileFloats;     // [rows][stride], key j of the segment in column j

            // Pass 1: scores, block by block, four rows at a time.
            for (int b = firstBlock; b < lastBlock; b++)
            {
                Prefetch(layer, layer.K, blockTable, b + 1, lastBlock, g);
                float* keys = Tile(layer, layer.K, blockTable[b], g, widened);  // [hd][bs]
                float* blockScores = scores + ((long)(b - firstBlock) * bs);
                int r = 0;
                for (; r + 4 <= rows; r += 4)
                {
                    if (wideScores)
                    {
                        ScoreRows4Wide(qRow[r], qRow[r + 1], qRow[r + 2], qRow[r + 3], keys, hd, bs, scale, blockScores + ((long)r * stride), stride);
                    }
                    else
                    {
                        ScoreRows4(qRow[r], qRow[r + 1], qRow[r + 2], qRow[r + 3], keys, hd, bs, scale, blockScores + ((long)r * stride), stride);
                    }
                }

                if (r + 2 <= rows)
                {
                    if (wideScores)
                    {
                        ScoreRows2Wide(qRow[r], qRow[r + 1], keys, hd, bs, scale, blockScores + ((long)r * stride), stride);
                    }
                    else
                    {
                        ScoreRows2(qRow[r], qRow[r + 1], keys, hd, bs, scale, blockScores + ((long)r * stride), stride);
                    }

                    r += 2;
                }

                if (r < rows)
                {
                    ScoreRow(qRow[r], keys, hd, bs, scale, blockScores + ((long)r * stride));
                }
            }

            for (int r = 0; r < rows; r++)
            {
                var rowScores = new Span<float>(scores + ((long)r * stride), (int)len[r]);
                if (split[r] != 0)
                {
                    float max = Ops.Max(rowScores, SimdWidth.V256);
                    outRow[r][hd] = max;
                    outRow[r][hd + 1] = Ops.ExpSubtract(rowScores, max, SimdWidth.V256);
                }
                else
                {
                    Ops.Softmax(rowScores, SimdWidth.V256);
                }

                new Span<float>(outRow[r], hd).Clear();
            }

            // Pass 2: each output row accumulates the block's value rows weighted by its probabilities, two rows
            // per value load.
            Prefetch(layer, layer.V, blockTable, firstBlock, lastBlock, g);
            for (int b = firstBlock; b < lastBlock; b++)
            {
                Prefetch(layer, layer.V, blockTable, b + 1, lastBlock, g);
                float* values = Tile(layer, layer.V, blockTable[b], g, widened);  // [bs][hd]
                int j0 = (b - firstBlock) * bs;
                int r = 0;
                for (; r + 2 <= rows; r += 2)
                {
                    int lenA = (int)Math.Clamp(len[r] - j0, 0, bs);
                    int lenB = (int)Math.Clamp(len[r + 1] - j0, 0, bs);
                    float* pa = scores + ((long)r * stride) + j0;
                    for (int d0 = 0; d0 < hd;)
                    {
                        // 64 dimensions a call at 512 bits while they last (the same bits), else 32.
                        if (wide && d0 + 64 <= hd)
                        {
                            WeighValues2Wide64(pa, lenA, pa + stride, lenB, values, hd, d0, outRow[r], outRow[r + 1]);
                            d0 += 64;
                        }
                        else
                        {
                            WeighValues2(pa, lenA, pa + stride, lenB, values, hd, d0, Math.Min(32, hd - d0), outRow[r], outRow[r + 1]);
                            d0 += 32;
                        }
                    }
                }

                if (r < rows)
                {
                    int lenR = (int)Math.Clamp(len[r] - j0, 0, bs);
                    float* p = scores + ((long)r * stride) + j0;
                    for (int d0 = 0; d0 < hd && lenR > 0;)
                    {
                        if (wide && d0 + 64 <= hd)
                        {
                            WeighValues1Wide64(p, lenR, values, hd, d0, outRow[r]);
                            d0 += 64;
                        }
                        else
                        {
                            WeighValues1(p, lenR, values, hd, d0, Math.Min(32, hd - d0), outRow[r]);
                            d0 += 32;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// One row's output from its segments' partial rows (<see cref="AttendRunTiled"/>), in segment order:
    /// <c>out = Σ_s w_s · o_s</c> with <c>w_s = exp(m_s − M) / Σ_t exp(m_t − M) · l_t</c>, M the largest m_s.
    /// </summary>
    /// <param name="first">Segment 0's partial row: hd sums, then m, then l.</param>
    /// <param name="segmentStride">Floats from one segment's partial row to the next's.</param>
    /// <param name="segments">Segments that hold keys of the row (each has at least one).</param>
    /// <param name="hd">Head size.</param>
    /// <param name="output">The row's hd outputs.</param>
    private static void MergeSegments(float* first, long segmentStride, int segments, int hd, float* output)
    {
        float max = float.NegativeInfinity;
        for (int s = 0; s < segments; s++)
        {
            max = MathF.Max(max, first[(s * segmentStride) + hd]);
        }

        float total = 0;
        for (int s = 0; s < segments; s++)
        {
            float* row = first + (s * segmentStride);
            total += MathF.Exp(row[hd] - max) * row[hd + 1];
        }

        var result = new Span<float>(output, hd);
        result.Clear();
        for (int s = 0; s < segments; s++)
        {
            float* row = first + (s * segmentStride);
            Ops.MulAdd(MathF.Exp(row[hd] - max) / total, new ReadOnlySpan<float>(row, hd), result, SimdWidth.V256);
        }
    }

    /// <summary>
    /// The (block, head g) tile of <paramref name="basePtr"/> as floats: in place for an F32 cache, widened into
    /// <paramref name="widened"/> (BlockSize · HeadDim floats) for F16. The layout is the tile's own.
    /// </summary>
    private static float* Tile(in KvLayerView layer, byte* basePtr, int blockId, int g, float* widened)
    {
        byte* tile = layer.HeadTile(basePtr, blockId, g);
        if (layer.DataType != KvDataType.F16)
        {
            return (float*)tile;
        }

        int elements = layer.BlockSize * layer.HeadDim;
        if (!RowF16.TryWidenFinite((ushort*)tile, widened, elements))
        {
            RowF16.Dequantize(new ReadOnlySpan<byte>(tile, elements * sizeof(ushort)), new Span<float>(widened, elements), SimdWidth.V256);
        }

        return widened;
    }

    /// <summary>
    /// Asks for block <paramref name="b"/>'s tile (if the run has it) to be brought into the cache while the current one is
    /// worked on: the tiles of a sequence are scattered over the arena, so the hardware prefetchers, which follow
    /// streams within a page, start again at every tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(in KvLayerView layer, byte* basePtr, ReadOnlySpan<int> blockTable, int b, int blocks, int g)
    {
        if (b >= blocks)
        {
            return;
        }

        byte* tile = layer.HeadTile(basePtr, blockTable[b], g);
        long bytes = (long)layer.BlockSize * layer.HeadDim * layer.ElementBytes;
        for (long offset = 0; offset < bytes; offset += 64)
        {
            Sse.Prefetch0(tile + offset);
        }
    }

    /// <summary>
    /// Scores of one query row against one block's keys ([hd][bs]), 8 keys per vector with two partial sums (even and
    /// odd d); 16 keys at a time where the block has them, so that four sums are in flight rather than two. Keys from
    /// <paramref name="start"/> (a multiple of 8) to the end of the block.
    /// </summary>
    private static void ScoreRow(float* qa, float* keys, int hd, int bs, float scale, float* scores, int start = 0)
    {
        int k0 = start;
        for (; k0 + 16 <= bs; k0 += 16)
        {
            float* kb = keys + k0;
            Vector256<float> a0 = default, a1 = default, e0 = default, e1 = default;
            for (int d = 0; d < hd; d += 2)
            {
                var q0 = Vector256.Create(qa[d]);
                var q1 = Vector256.Create(qa[d + 1]);
                a0 = Fma.MultiplyAdd(q0, Vector256.Load(kb + ((long)d * bs)), a0);
                a1 = Fma.MultiplyAdd(q1, Vector256.Load(kb + ((long)(d + 1) * bs)), a1);
                e0 = Fma.MultiplyAdd(q0, Vector256.Load(kb + ((long)d * bs) + 8), e0);
                e1 = Fma.MultiplyAdd(q1, Vector256.Load(kb + ((long)(d + 1) * bs) + 8), e1);
            }

            ((a0 + a1) * scale).Store(scores + k0);
            ((e0 + e1) * scale).Store(scores + k0 + 8);
        }

        for (; k0 < bs; k0 += 8)
        {
            float* kb = keys + k0;
            Vector256<float> a0 = default, a1 = default;
            for (int d = 0; d < hd; d += 2)
            {
                a0 = Fma.MultiplyAdd(Vector256.Create(qa[d]), Vector256.Load(kb + ((long)d * bs)), a0);
                a1 = Fma.MultiplyAdd(Vector256.Create(qa[d + 1]), Vector256.Load(kb + ((long)(d + 1) * bs)), a1);
            }

            ((a0 + a1) * scale).Store(scores + k0);
        }
    }

    /// <summary>Two rows of <see cref="ScoreRow"/> sharing each key load, 16 keys at a time where the block has them: the same arithmetic per row.</summary>
    private static void ScoreRows2(float* qa, float* qb, float* keys, int hd, int bs, float scale, float* scores, int stride)
    {
        int k0 = 0;
        for (; k0 + 16 <= bs; k0 += 16)
        {
            float* kb = keys + k0;
            Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default, e0 = default, e1 = default, f0 = default, f1 = default;
            for (int d = 0; d < hd; d += 2)
            {
                var k0v = Vector256.Load(kb + ((long)d * bs));
                var k1v = Vector256.Load(kb + ((long)(d + 1) * bs));
                var k2v = Vector256.Load(kb + ((long)d * bs) + 8);
                var k3v = Vector256.Load(kb + ((long)(d + 1) * bs) + 8);
                var qa0 = Vector256.Create(qa[d]);
                var qa1 = Vector256.Create(qa[d + 1]);
                var qb0 = Vector256.Create(qb[d]);
                var qb1 = Vector256.Create(qb[d + 1]);
                a0 = Fma.MultiplyAdd(qa0, k0v, a0);
                a1 = Fma.MultiplyAdd(qa1, k1v, a1);
                e0 = Fma.MultiplyAdd(qa0, k2v, e0);
                e1 = Fma.MultiplyAdd(qa1, k3v, e1);
                b0 = Fma.MultiplyAdd(qb0, k0v, b0);
                b1 = Fma.MultiplyAdd(qb1, k1v, b1);
                f0 = Fma.MultiplyAdd(qb0, k2v, f0);
                f1 = Fma.MultiplyAdd(qb1, k3v, f1);
            }

            ((a0 + a1) * scale).Store(scores + k0);
            ((e0 + e1) * scale).Store(scores + k0 + 8);
            ((b0 + b1) * scale).Store(scores + stride + k0);
            ((f0 + f1) * scale).Store(scores + stride + k0 + 8);
        }

        if (k0 < bs)
        {
            ScoreRow(qa, keys, hd, bs, scale, scores, k0);
            ScoreRow(qb, keys, hd, bs, scale, scores + stride, k0);
        }
    }

    /// <summary>Four rows of <see cref="ScoreRow"/> sharing each key load: the same arithmetic per row.</summary>
    private static void ScoreRows4(float* qa, float* qb, float* qc, float* qd, float* keys, int hd, int bs, float scale, float* scores, int stride)
    {
        for (int k0 = 0; k0 < bs; k0 += 8)
        {
            float* kb = keys + k0;
            Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
            for (int d = 0; d < hd; d += 2)
            {
                var k0v = Vector256.Load(kb + ((long)d * bs));
                var k1v = Vector256.Load(kb + ((long)(d + 1) * bs));
                a0 = Fma.MultiplyAdd(Vector256.Create(qa[d]), k0v, a0);
                a1 = Fma.MultiplyAdd(Vector256.Create(qa[d + 1]), k1v, a1);
                b0 = Fma.MultiplyAdd(Vector256.Create(qb[d]), k0v, b0);
                b1 = Fma.MultiplyAdd(Vector256.Create(qb[d + 1]), k1v, b1);
                c0 = Fma.MultiplyAdd(Vector256.Create(qc[d]), k0v, c0);
                c1 = Fma.MultiplyAdd(Vector256.Create(qc[d + 1]), k1v, c1);
                d0 = Fma.MultiplyAdd(Vector256.Create(qd[d]), k0v, d0);
                d1 = Fma.MultiplyAdd(Vector256.Create(qd[d + 1]), k1v, d1);
            }

            ((a0 + a1) * scale).Store(scores + k0);
            ((b0 + b1) * scale).Store(scores + stride + k0);
            ((c0 + c1) * scale).Store(scores + (2 * stride) + k0);
            ((d0 + d1) * scale).Store(scores + (3 * stride) + k0);
        }
    }

    /// <summary>out[d0 .. d0 + dims) += Σ_{j &lt; len} p[j] · values[j, d0 ..] for one row (dims ≤ 32, a multiple of 8).</summary>
    private static void WeighValues1(float* p, int len, float* values, int hd, int d0, int dims, float* output)
    {
        Load(output + d0, dims, out var a0, out var a1, out var a2, out var a3);
        for (int j = 0; j < len; j++)
        {
            Accumulate(Vector256.Create(p[j]), values + ((long)j * hd) + d0, dims, ref a0, ref a1, ref a2, ref a3);
        }

        Store(output + d0, dims, a0, a1, a2, a3);
    }

    /// <summary>Two rows of <see cref="WeighValues1"/> sharing each value load (each row only over its own length).</summary>
    private static void WeighValues2(float* pa, int lenA, float* pb, int lenB, float* values, int hd, int d0, int dims, float* outA, float* outB)
    {
        if (lenA == 0 && lenB == 0)
        {
            return;
        }

        Load(outA + d0, dims, out var a0, out var a1, out var a2, out var a3);
        Load(outB + d0, dims, out var b0, out var b1, out var b2, out var b3);
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
    private static void Load(float* src, int dims, out Vector256<float> a0, out Vector256<float> a1, out Vector256<float> a2, out Vector256<float> a3)
    {
        a0 = Vector256.Load(src);
        a1 = dims > 8 ? Vector256.Load(src + 8) : default;
        a2 = dims > 16 ? Vector256.Load(src + 16) : default;
        a3 = dims > 24 ? Vector256.Load(src + 24) : default;
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
