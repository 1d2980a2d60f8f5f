using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Attention;

/// <summary>
/// Attention of one query token over a sequence whose keys and values live in non-contiguous KV blocks
/// (vLLM's PagedAttention, CPU edition). See <see cref="KvLayerView"/> for the memory layout.
/// </summary>
/// <remarks>
/// <para>Two passes per KV head: (1) scores <c>q_h · k_j · scale</c> for every query head h of the group, reading
/// each key once for the whole group; softmax of each row; (2) <c>out_h = Σ_j p_hj · v_j</c>, reading each value
/// once for the group. Grouped-query attention: query head h uses KV head <c>h / (nHeads / NumKvHeads)</c>.
/// With AVX2 + FMA and block sizes and head dims that are multiples of 8, the passes go a KV block at a time over
/// whole tiles (PagedAttention.Tiled.cs); otherwise (the portable path) a key or value row at a time.</para>
/// <para>Nothing is allocated per call once warm: the scores, the run table and the tiled path's widened tile live
/// in per-thread buffers that grow to the largest call seen (scores: run rows × context floats; the tile:
/// BlockSize × HeadDim floats), and the stack holds at most two HeadDim-float rows.</para>
/// </remarks>
public static unsafe partial class PagedAttention
{
    /// <summary>Largest head size supported (it bounds the stack buffers).</summary>
    public const int MaxHeadDim = 1024;

    /// <summary>Stores one token's keys and values into <paramref name="slot"/> (converted to the cache's element type).</summary>
    /// <param name="layer">The layer's KV regions.</param>
    /// <param name="slot"><c>blockId · BlockSize + offsetInBlock</c>.</param>
    /// <param name="k">[NumKvHeads · HeadDim] keys, after RoPE.</param>
    /// <param name="v">[NumKvHeads · HeadDim] values.</param>
    /// <exception cref="ArgumentException">The slot is outside the arena, or a span is too short.</exception>
    public static void WriteKv(in KvLayerView layer, int slot, ReadOnlySpan<float> k, ReadOnlySpan<float> v)
    {
        if ((uint)slot >= layer.NumSlots)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"The arena has {layer.NumSlots} slots.");
        }

        int width = layer.NumKvHeads * layer.HeadDim;
        if (k.Length < width || v.Length < width)
        {
            throw new ArgumentException($"k and v must hold NumKvHeads · HeadDim = {width} floats (got {k.Length} and {v.Length}).", k.Length < width ? nameof(k) : nameof(v));
        }

        int blockId = slot / layer.BlockSize;
        int offset = slot % layer.BlockSize;
        int hd = layer.HeadDim;
        int rowBytes = hd * layer.ElementBytes;
        Span<byte> keyRow = stackalloc byte[rowBytes]; // one head's key in the cache's element type, before the transposed store
        for (int h = 0; h < layer.NumKvHeads; h++)
        {
            var vDst = new Span<byte>(layer.HeadTile(layer.V, blockId, h) + ((long)offset * rowBytes), rowBytes);
            StoreRow(layer.DataType, v.Slice(h * hd, hd), vDst);

            // K tiles are transposed: dimension d of the token at `offset` is element d · BlockSize + offset.
            StoreRow(layer.DataType, k.Slice(h * hd, hd), keyRow);
            byte* kTile = layer.HeadTile(layer.K, blockId, h);
            if (layer.DataType == KvDataType.F16)
            {
                StoreColumn<ushort>(keyRow, kTile, offset, layer.BlockSize);
            }
            else
            {
                StoreColumn<float>(keyRow, kTile, offset, layer.BlockSize);
            }
        }
    }

    /// <summary>Stores a row of elements as column <paramref name="offset"/> of a transposed tile ([row length][blockSize]).</summary>
    private static void StoreColumn<T>(ReadOnlySpan<byte> row, byte* tile, int offset, int blockSize)
        where T : unmanaged
    {
        var src = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(row);
        T* dst = (T*)tile + offset;
        for (int d = 0; d < src.Length; d++)
        {
            dst[(long)d * blockSize] = src[d];
        }
    }

    /// <summary>
    /// <c>output_h = softmax(q_h · Kᵀ · scale) · V</c> over the sequence's first <paramref name="kvLen"/> tokens.
    /// </summary>
    /// <param name="layer">The layer's KV regions.</param>
    /// <param name="q">[nHeads · HeadDim] queries of one token (after RoPE).</param>
    /// <param name="nHeads">Query heads, a multiple of <see cref="KvLayerView.NumKvHeads"/>.</param>
    /// <param name="blockTable">The sequence's block ids: token j is in block blockTable[j / BlockSize].</param>
    /// <param name="kvLen">Tokens to attend to (0 gives a zero output).</param>
    /// <param name="scale">Score scale, usually 1 / sqrt(HeadDim).</param>
    /// <param name="output">[nHeads · HeadDim] result.</param>
    /// <param name="scratch">At least kvLen · (nHeads / NumKvHeads) floats for the scores.</param>
    /// <exception cref="ArgumentException">A size does not fit, or a block id is outside the arena.</exception>
    public static void Attend(
        in KvLayerView layer, ReadOnlySpan<float> q, int nHeads, ReadOnlySpan<int> blockTable, int kvLen, float scale,
        Span<float> output, Span<float> scratch) =>
        Attend(layer, q, nHeads, blockTable, kvLen, scale, output, scratch, Simd.Best);

    /// <summary>
    /// Scalar reference of <see cref="Attend(in KvLayerView, ReadOnlySpan{float}, int, ReadOnlySpan{int}, int, float, Span{float}, Span{float})"/>:
    /// per query head, one token at a time, plain loops (the test oracle and the portable fallback).
    /// </summary>
    /// <param name="layer">The layer's KV regions.</param>
    /// <param name="q">[nHeads · HeadDim] queries.</param>
    /// <param name="nHeads">Query heads.</param>
    /// <param name="blockTable">The sequence's block ids.</param>
    /// <param name="kvLen">Tokens to attend to.</param>
    /// <param name="scale">Score scale.</param>
    /// <param name="output">[nHeads · HeadDim] result.</param>
    /// <param name="scratch">At least kvLen · (nHeads / NumKvHeads) floats.</param>
    public static void AttendReference(
        in KvLayerView layer, ReadOnlySpan<float> q, int nHeads, ReadOnlySpan<int> blockTable, int kvLen, float scale,
        Span<float> output, Span<float> scratch)
    {
        Validate(layer, q, nHeads, blockTable, kvLen, output, scratch);
        int hd = layer.HeadDim;
        int group = nHeads / layer.NumKvHeads;
        var scores = scratch[..kvLen];
        for (int h = 0; h < nHeads; h++)
        {
            int kvHead = h / group;
            var qh = q.Slice(h * hd, hd);
            float max = float.NegativeInfinity;
            for (int j = 0; j < kvLen; j++)
            {
                float dot = 0;
                for (int d = 0; d < hd; d++)
                {
                    dot += qh[d] * ReadElement(layer, layer.K, blockTable, j, kvHead, d, transposed: true);
                }

                scores[j] = dot * scale;
                max = MathF.Max(max, scores[j]);
            }

            float sum = 0;
            for (int j = 0; j < kvLen; j++)
            {
                scores[j] = MathF.Exp(scores[j] - max);
                sum += scores[j];
            }

            var oh = output.Slice(h * hd, hd);
            for (int d = 0; d < hd; d++)
            {
                float acc = 0;
                for (int j = 0; j < kvLen; j++)
                {
                    acc += scores[j] / sum * ReadElement(layer, layer.V, blockTable, j, kvHead, d, transposed: false);
                }

                oh[d] = acc;
            }
        }
    }

    internal static void Attend(
        in KvLayerView layer, ReadOnlySpan<float> q, int nHeads, ReadOnlySpan<int> blockTable, int kvLen, float scale,
        Span<float> output, Span<float> scratch, SimdWidth width)
    {
        Validate(layer, q, nHeads, blockTable, kvLen, output, scratch);
        if (IsTiled(layer, width))
        {
            // The tiled path through the same plan as AttendBatch (key segments and their merge), on this thread.
            int start = 0;
            int* runStarts = stackalloc int[] { 0, 1 };
            fixed (float* qt = q, ot = output)
            fixed (int* table = blockTable)
            {
                Execute(layer, qt, ot, nHeads, table, blockTable.Length, &start, &kvLen, runStarts, 1, scale, width, pool: null);
            }

            return;
        }

        Span<float> widened = stackalloc float[layer.HeadDim]; // one K or V row as floats
        fixed (float* qp = q, op = output)
        {
            for (int g = 0; g < layer.NumKvHeads; g++)
            {
                AttendRun(layer, qp, op, nHeads, 1, &kvLen, blockTable, scale, scratch, widened, g, width);
            }
        }
    }

    /// <summary>
    /// The attention of many query tokens at once, one pool chunk per (token, KV head): prefill chunks and
    /// batched decode spread over the threads, and a single decoding sequence over its KV heads.
    /// </summary>
    /// <param name="layer">The layer's KV regions.</param>
    /// <param name="q">[numTokens, nHeads · HeadDim] queries (after RoPE).</param>
    /// <param name="nHeads">Query heads, a multiple of <see cref="KvLayerView.NumKvHeads"/>.</param>
    /// <param name="blockTables">The block tables of the batch's sequences, end to end.</param>
    /// <param name="tableStart">[numTokens] where token t's block table starts in <paramref name="blockTables"/>.</param>
    /// <param name="kvLen">[numTokens] how many tokens token t attends to (its sequence's first kvLen[t]).</param>
    /// <param name="scale">Score scale, usually 1 / sqrt(HeadDim).</param>
    /// <param name="output">[numTokens, nHeads · HeadDim] results.</param>
    /// <param name="pool">The threads to run on.</param>
    /// <exception cref="ArgumentException">A size does not fit, or a block id is outside the arena.</exception>
    public static void AttendBatch(
        in KvLayerView layer, ReadOnlySpan<float> q, int nHeads, ReadOnlySpan<int> blockTables, ReadOnlySpan<int> tableStart,
        ReadOnlySpan<int> kvLen, float scale, Span<float> output, KernelThreadPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        int n = kvLen.Length;
        if (tableStart.Length < n)
        {
            throw new ArgumentException($"tableStart must hold one offset per token ({n}), not {tableStart.Length}.", nameof(tableStart));
        }

        int width = nHeads * layer.HeadDim;
        long maxKvLen = 0;
        for (int t = 0; t < n; t++)
        {
            if ((uint)tableStart[t] > (uint)blockTables.Length)
            {
                throw new ArgumentException($"tableStart[{t}] = {tableStart[t]} is outside the {blockTables.Length} block-table entries.", nameof(tableStart));
            }

            Validate(layer, q.Slice(Math.Min(q.Length, t * width)), nHeads, blockTables[tableStart[t]..], kvLen[t],
                output.Slice(Math.Min(output.Length, t * width)), default, checkScratch: false);
            maxKvLen = Math.Max(maxKvLen, kvLen[t]);
        }

        // Runs: consecutive tokens of one sequence (the same block table), up to MaxRun and MaxRunScores, attend
        // together so that each key and value is read (and F16 widened) once per run rather than once per token.
        int group = nHeads / layer.NumKvHeads;
        int[] runs = _runs is { } r && r.Length > n ? r : (_runs = new int[Math.Max(n + 1, 64)]);
        int runCount = 0;
        for (int t = 0, runMax = 0; t < n; t++)
        {
            int runLength = runCount == 0 ? 0 : t - runs[runCount - 1];
            int longest = Math.Max(runMax, kvLen[t]);
            if (runCount == 0 || tableStart[t] != tableStart[t - 1] || runLength == MaxRun || (long)(runLength + 1) * group * longest > MaxRunScores)
            {
                runs[runCount++] = t;
                runMax = kvLen[t];
            }
            else
            {
                runMax = longest;
            }
        }

        runs[runCount] = n;
        fixed (float* qp = q, op = output)
        fixed (int* tables = blockTables, starts = tableStart, lengths = kvLen, runStarts = runs)
        {
            long macs = maxKvLen * n * width * 2;
            Execute(layer, qp, op, nHeads, tables, blockTables.Length, starts, lengths, runStarts, runCount, scale, Simd.Best, macs < 1 << 15 ? null : pool);
        }
    }

    /// <summary>The longest of <paramref name="count"/> key lengths (0 for none).</summary>
    private static int MaxLength(int* lengths, int count)
    {
        int longest = 0;
        for (int i = 0; i < count; i++)
        {
            longest = Math.Max(longest, lengths[i]);
        }

        return longest;
    }

    /// <summary>
    /// Whether runs take <see cref="AttendRunTiled"/> (AVX2 + FMA, head dims and block sizes multiples of 8), which keeps
    /// its own scratch.
    /// </summary>
    private static bool IsTiled(in KvLayerView layer, SimdWidth width) =>
        width >= SimdWidth.V256 && layer.HeadDim % 8 == 0 && layer.BlockSize % 8 == 0 && System.Runtime.Intrinsics.X86.Fma.IsSupported && System.Runtime.Intrinsics.X86.Avx2.IsSupported;

    /// <summary>Most tokens in one attention run of <see cref="AttendBatch"/>.</summary>
    private const int MaxRun = 16;

    /// <summary>Most scores (floats) one run keeps: 4 MB per thread, whatever the context length.</summary>
    private const long MaxRunScores = 1 << 20;

    /// <summary>The runs of the last <see cref="AttendBatch"/> on this thread: [runCount + 1] first token of each run, then n.</summary>
    [ThreadStatic]
    private static int[]? _runs;

    /// <summary>
    /// The portable path (no AVX2, or block sizes or head dims that are not multiples of 8): attention of KV head
    /// <paramref name="g"/>'s query group for <paramref name="count"/> tokens that share one block table (a run of a
    /// sequence's tokens; token i attends to its first lengths[i] keys). Each key and value row is read, and widened
    /// from F16, once for the whole run; every token's arithmetic is the same as alone.
    /// </summary>
    /// <param name="layer">The KV arena view.</param>
    /// <param name="q">count × [nHeads, hd] queries, one token after another.</param>
    /// <param name="output">count × [nHeads, hd] outputs, laid out like q.</param>
    /// <param name="nHeads">Query heads.</param>
    /// <param name="count">Tokens in the run.</param>
    /// <param name="lengths">[count] keys each token attends to.</param>
    /// <param name="blockTable">The run's block table.</param>
    /// <param name="scale">Score scale.</param>
    /// <param name="scores">At least count · group · max(lengths) floats.</param>
    /// <param name="widened">One K or V row as floats (HeadDim floats).</param>
    /// <param name="g">The KV head.</param>
    /// <param name="width">SIMD width.</param>
    private static void AttendRun(
        in KvLayerView layer, float* q, float* output, int nHeads, int count, int* lengths, ReadOnlySpan<int> blockTable, float scale,
        Span<float> scores, Span<float> widened, int g, SimdWidth width)
    {
        int hd = layer.HeadDim;
        int group = nHeads / layer.NumKvHeads;
        int tokenWidth = nHeads * hd;
        int rowBytes = hd * layer.ElementBytes;
        bool f16 = layer.DataType == KvDataType.F16;
        int maxLen = MaxLength(lengths, count);

        // scores[(i · group + h) · maxLen + j]: token i, head h of the group, key j.
        // Pass 1: scores, one key row read for the whole run.
        for (int j0 = 0; j0 < maxLen; j0 += layer.BlockSize)
        {
            byte* tile = layer.HeadTile(layer.K, blockTable[j0 / layer.BlockSize], g);
            int inBlock = Math.Min(layer.BlockSize, maxLen - j0);
            for (int o = 0; o < inBlock; o++)
            {
                int j = j0 + o;
                var key = KeyRow(tile, o, layer.BlockSize, hd, f16, widened);
                for (int i = 0; i < count; i++)
                {
                    if (j >= lengths[i])
                    {
                        continue;
                    }

                    float* qGroup = q + ((long)i * tokenWidth) + (g * group * hd);
                    for (int h = 0; h < group; h++)
                    {
                        scores[(((i * group) + h) * maxLen) + j] = Ops.Dot(new ReadOnlySpan<float>(qGroup + (h * hd), hd), key, width) * scale;
                    }
                }
            }
        }

        for (int i = 0; i < count; i++)
        {
            for (int h = 0; h < group; h++)
            {
                Ops.Softmax(scores.Slice(((i * group) + h) * maxLen, lengths[i]), width);
            }

            new Span<float>(output + ((long)i * tokenWidth) + (g * group * hd), group * hd).Clear();
        }

        // Pass 2: weighted sum of values, one value row read for the whole run.
        for (int j0 = 0; j0 < maxLen; j0 += layer.BlockSize)
        {
            byte* tile = layer.HeadTile(layer.V, blockTable[j0 / layer.BlockSize], g);
            int inBlock = Math.Min(layer.BlockSize, maxLen - j0);
            for (int o = 0; o < inBlock; o++)
            {
                int j = j0 + o;
                var value = Row(tile + ((long)o * rowBytes), hd, f16, widened, width);
                for (int i = 0; i < count; i++)
                {
                    if (j >= lengths[i])
                    {
                        continue;
                    }

                    float* outGroup = output + ((long)i * tokenWidth) + (g * group * hd);
                    for (int h = 0; h < group; h++)
                    {
                        Ops.MulAdd(scores[(((i * group) + h) * maxLen) + j], value, new Span<float>(outGroup + (h * hd), hd), width);
                    }
                }
            }
        }
    }

    private static void Validate(
        in KvLayerView layer, ReadOnlySpan<float> q, int nHeads, ReadOnlySpan<int> blockTable, int kvLen,
        Span<float> output, Span<float> scratch, bool checkScratch = true)
    {
        if (layer.K == null || layer.V == null)
        {
            throw new ArgumentException("The layer view is empty (default).", nameof(layer));
        }

        if (layer.HeadDim > MaxHeadDim)
        {
            throw new ArgumentException($"HeadDim {layer.HeadDim} exceeds the supported maximum {MaxHeadDim}.", nameof(layer));
        }

        if (nHeads <= 0 || nHeads % layer.NumKvHeads != 0)
        {
            throw new ArgumentException($"nHeads ({nHeads}) must be a positive multiple of NumKvHeads ({layer.NumKvHeads}).", nameof(nHeads));
        }

        long width = (long)nHeads * layer.HeadDim;
        if (q.Length < width)
        {
            throw new ArgumentException($"q must hold nHeads · HeadDim = {width} floats, not {q.Length}.", nameof(q));
        }

        if (output.Length < width)
        {
            throw new ArgumentException($"output must hold nHeads · HeadDim = {width} floats, not {output.Length}.", nameof(output));
        }

        if (kvLen < 0 || kvLen > (long)blockTable.Length * layer.BlockSize)
        {
            throw new ArgumentException(
                $"kvLen {kvLen} does not fit the block table ({blockTable.Length} blocks of {layer.BlockSize} tokens).", nameof(kvLen));
        }

        long need = (long)kvLen * (nHeads / layer.NumKvHeads);
        if (checkScratch && scratch.Length < need)
        {
            throw new ArgumentException($"scratch must hold kvLen · (nHeads / NumKvHeads) = {need} floats, not {scratch.Length}.", nameof(scratch));
        }

        int usedBlocks = (kvLen + layer.BlockSize - 1) / layer.BlockSize;
        for (int i = 0; i < usedBlocks; i++)
        {
            if ((uint)blockTable[i] >= (uint)layer.NumBlocks)
            {
                throw new ArgumentException($"blockTable[{i}] = {blockTable[i]} is outside the arena's {layer.NumBlocks} blocks.", nameof(blockTable));
            }
        }
    }

    /// <summary>
    /// Key <paramref name="offset"/> of a transposed K tile ([headDim][blockSize]) gathered into <paramref name="buffer"/> as floats
    /// (generic path; the tiled path reads whole tiles).
    /// </summary>
    private static ReadOnlySpan<float> KeyRow(byte* tile, int offset, int blockSize, int headDim, bool f16, Span<float> buffer)
    {
        for (int d = 0; d < headDim; d++)
        {
            long index = ((long)d * blockSize) + offset;
            buffer[d] = f16 ? (float)((Half*)tile)[index] : ((float*)tile)[index];
        }

        return buffer[..headDim];
    }

    /// <summary>A V row as floats: in place for F32, widened into <paramref name="buffer"/> for F16.</summary>
    private static ReadOnlySpan<float> Row(byte* row, int headDim, bool f16, Span<float> buffer, SimdWidth width)
    {
        if (!f16)
        {
            return new ReadOnlySpan<float>(row, headDim);
        }

        RowF16.Dequantize(new ReadOnlySpan<byte>(row, headDim * sizeof(ushort)), buffer, width);
        return buffer;
    }

    private static void StoreRow(KvDataType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (type == KvDataType.F16)
        {
            RowF16.Quantize(src, dst, Simd.Best);
        }
        else
        {
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(src).CopyTo(dst);
        }
    }

    /// <summary>Element d of token <paramref name="j"/> (reference path): a K tile is transposed, a V tile is not.</summary>
    private static float ReadElement(in KvLayerView layer, byte* basePtr, ReadOnlySpan<int> blockTable, int j, int kvHead, int d, bool transposed)
    {
        byte* tile = layer.HeadTile(basePtr, blockTable[j / layer.BlockSize], kvHead);
        int offset = j % layer.BlockSize;
        long index = transposed ? ((long)d * layer.BlockSize) + offset : ((long)offset * layer.HeadDim) + d;
        return layer.DataType == KvDataType.F16
            ? (float)((Half*)tile)[index]
            : ((float*)tile)[index];
    }
}
