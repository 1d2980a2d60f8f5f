namespace Kvasir.Kernels.Attention;

/// <summary>
/// How the attention of a batch is cut into pool chunks: one per (run, key segment, KV head). On the tiled path a
/// row longer than <see cref="SegmentKeys"/> keys is computed a segment at a time (flash-decoding's split of the key
/// axis) and its segments' partial results are merged afterwards, so that a single decoding sequence with fewer KV
/// heads than threads still spreads over all of them.
/// </summary>
/// <remarks>
/// <code>
///  runs:      run 0 (tokens 0..15, one sequence)     run 1 (token 16, another sequence)
///  segments:  [keys 0..127] [128..255] [256..300]     [keys 0..40]
///  chunks:    (pair, KV head) for every (run, segment) pair: pairs × NumKvHeads
///  partials:  per split run: [segment][token][query head][hd + 2]  (Σ e·v, then m and Σ e)
/// </code>
/// Where a row is split depends only on its own length, never on the batch or the thread count, so a token gives
/// the same bits alone (<see cref="Attend(in KvLayerView, ReadOnlySpan{float}, int, ReadOnlySpan{int}, int, float, Span{float}, Span{float})"/>)
/// as in any batch. Measured on the 2-core development VM (S shape: 3 KV heads, one decoding token, 512 keys, F16, 30
/// layers): see docs/kernels.md.
/// </remarks>
public static unsafe partial class PagedAttention
{
    /// <summary>Keys per segment of a long row on the tiled path (rounded down to whole blocks, at least one).</summary>
    private const int SegmentKeys = 128;

    /// <summary>The (run, segment) pairs of the last call on this thread: [2 · pairs] run, segment.</summary>
    [ThreadStatic]
    private static int[]? _pairs;

    /// <summary>Where each run's partial rows start in <see cref="_partials"/> (−1: the run is not split).</summary>
    [ThreadStatic]
    private static long[]? _partialStarts;

    /// <summary>The partial rows of the split runs of the last call on this thread.</summary>
    [ThreadStatic]
    private static float[]? _partials;

    /// <summary>Keys per segment for this arena's block size.</summary>
    private static int SegmentLength(in KvLayerView layer) => Math.Max(1, SegmentKeys / layer.BlockSize) * layer.BlockSize;

    /// <summary>
    /// Runs the attention of <paramref name="runCount"/> runs (token ranges of one sequence each, see
    /// <see cref="AttendBatch"/>) on <paramref name="pool"/>, or on this thread when it is null.
    /// </summary>
    private static void Execute(
        in KvLayerView layer, float* q, float* output, int nHeads, int* tables, int tablesLength, int* tableStart, int* kvLen,
        int* runStarts, int runCount, float scale, SimdWidth width, KernelThreadPool? pool)
    {
        bool tiled = IsTiled(layer, width);
        int segment = SegmentLength(layer);
        int hd = layer.HeadDim;
        long partialRow = hd + 2;

        // Plan: a run splits into segments when its longest row is longer than one segment (tiled path only).
        int pairCount = 0;
        long partialFloats = 0;
        long[] partialStarts = _partialStarts is { } ps && ps.Length >= runCount ? ps : (_partialStarts = new long[Math.Max(runCount, 64)]);
        for (int run = 0; run < runCount; run++)
        {
            int count = runStarts[run + 1] - runStarts[run];
            int segments = Segments(tiled, MaxLength(kvLen + runStarts[run], count), segment);
            pairCount += segments;
            partialStarts[run] = segments > 1 ? partialFloats : -1;
            partialFloats += segments > 1 ? segments * count * nHeads * partialRow : 0;
        }

        int[] pairs = _pairs is { } p && p.Length >= 2 * pairCount ? p : (_pairs = new int[Math.Max(2 * pairCount, 128)]);
        for (int run = 0, i = 0; run < runCount; run++)
        {
            int segments = Segments(tiled, MaxLength(kvLen + runStarts[run], runStarts[run + 1] - runStarts[run]), segment);
            for (int s = 0; s < segments; s++, i++)
            {
                pairs[2 * i] = run;
                pairs[(2 * i) + 1] = s;
            }
        }

        float[] partials = _partials is { } f && f.Length >= partialFloats ? f : (_partials = new float[Math.Max(partialFloats, 4096)]);
        fixed (int* pairTable = pairs)
        fixed (long* starts = partialStarts)
        fixed (float* partialBase = partials)
        {
            var work = new BatchWork(layer, q, output, tables, tablesLength, tableStart, kvLen, runStarts, pairTable, starts, partialBase, segment, nHeads, scale, width);
            int chunks = pairCount * layer.NumKvHeads;
            if (pool is null || chunks == 1)
            {
                for (int c = 0; c < chunks; c++)
                {
                    work.Execute(c);
                }
            }
            else
            {
                pool.Run(chunks, work);
            }

            if (partialFloats == 0)
            {
                return;
            }

            // Merge the split rows' segments, in segment order.
            long tokenWidth = (long)nHeads * hd;
            for (int run = 0; run < runCount; run++)
            {
                if (starts[run] < 0)
                {
                    continue;
                }

                int t0 = runStarts[run];
                int count = runStarts[run + 1] - t0;
                long segmentStride = count * nHeads * partialRow;
                for (int i = 0; i < count; i++)
                {
                    int length = kvLen[t0 + i];
                    if (length <= segment)
                    {
                        continue;
                    }

                    int segments = (length + segment - 1) / segment;
                    for (int h = 0; h < nHeads; h++)
                    {
                        float* first = partialBase + starts[run] + ((((long)i * nHeads) + h) * partialRow);
                        MergeSegments(first, segmentStride, segments, hd, output + ((t0 + i) * tokenWidth) + ((long)h * hd));
                    }
                }
            }
        }
    }

    /// <summary>Segments of a run whose longest row has <paramref name="maxLength"/> keys.</summary>
    private static int Segments(bool tiled, int maxLength, int segment) =>
        tiled && maxLength > segment ? (maxLength + segment - 1) / segment : 1;

    /// <summary>One attention call as a pool job: chunk c is pair c / NumKvHeads (a run and a key segment), KV head c % NumKvHeads.</summary>
    private readonly struct BatchWork(
        KvLayerView layer, float* q, float* output, int* tables, int tablesLength, int* tableStart, int* kvLen, int* runStarts, int* pairs,
        long* partialStarts, float* partials, int segment, int nHeads, float scale, SimdWidth width) : IKernelWork
    {
        [ThreadStatic]
        private static float[]? _scores;

        public void Execute(int chunkIndex)
        {
            int pair = chunkIndex / layer.NumKvHeads;
            int g = chunkIndex % layer.NumKvHeads;
            int run = pairs[2 * pair];
            int s = pairs[(2 * pair) + 1];
            int t0 = runStarts[run];
            int count = runStarts[run + 1] - t0;
            var table = new ReadOnlySpan<int>(tables + tableStart[t0], tablesLength - tableStart[t0]);
            long tokenWidth = (long)nHeads * layer.HeadDim;
            if (IsTiled(layer, width))
            {
                bool split = partialStarts[run] >= 0;
                float* partial = split ? partials + partialStarts[run] + ((long)s * count * nHeads * (layer.HeadDim + 2)) : null;
                AttendRunTiled(layer, q + (t0 * tokenWidth), output + (t0 * tokenWidth), nHeads, count, kvLen + t0, table, scale, g,
                    s * segment, split ? segment : int.MaxValue, partial, width);
                return;
            }

            // The portable path: the run's scores and a row to widen into, per thread.
            Span<float> scores = Scores(count * (nHeads / layer.NumKvHeads) * MaxLength(kvLen + t0, count));
            Span<float> widened = stackalloc float[layer.HeadDim];
            AttendRun(layer, q + (t0 * tokenWidth), output + (t0 * tokenWidth), nHeads, count, kvLen + t0, table, scale, scores, widened, g, width);
        }

        /// <summary>This thread's scores buffer, at least <paramref name="need"/> floats.</summary>
        private static float[] Scores(int need) =>
            _scores is { } s && s.Length >= need ? s : (_scores = new float[Math.Max(need, 4096)]);
    }
}
