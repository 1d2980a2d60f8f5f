using System.Diagnostics;

namespace Kvasir.Kernels;

/// <summary>
/// How a product's rows are cut into pool chunks: equal chunks, four per thread, or — for products of several tokens —
/// shrinking ones ("guided" in OpenMP's words): each chunk takes a share of the rows still left, so the threads start on
/// long chunks and end on short ones and reach the barrier closer together.
/// </summary>
/// <remarks>
/// <code>
/// equal (4 per thread, 2 threads):  |  12.5 |  12.5 |  12.5 |  12.5 |  12.5 |  12.5 |  12.5 |  12.5 |
/// shrinking (2 threads):            |   25   | 18.8 | 14 | 10.5 | 7.9 | 5.9 |4.4|3.3|3.1|… (% of the rows)
/// </code>
/// A thread that claims the last chunk keeps the other one waiting for up to that chunk's length: with equal chunks
/// 7.5 % of the samples of a 16-sequence L Q4_K_M step were spent waiting (perf), with shrinking ones 4.6 %. In the
/// benchmark program (`--skip-llama`, builds alternating, medians of the pairs' ratios): L Q4_K_M 16 sequences +6 %
/// (ten pairs, seven won) and +3 % (six), prefill of 512 +6 % (six of six); L F16 prefill +9 %, its 16 sequences
/// even; S Q8_0 +1–2 %. More equal chunks instead had been 10–20 % slower (each chunk starts on rows no prefetch asked
/// for): here only the short chunks at the end pay that. The chunk boundaries are a function of the chunk index
/// only, so which thread runs which chunk changes no result. Boundaries stay multiples of
/// <see cref="MatMulWork.RowGroup"/>.
/// </remarks>
internal readonly struct RowChunks
{
    /// <summary>
    /// The shortest shrinking chunk: a chunk's first rows were asked of memory by no prefetch (the kernels prefetch
    /// within their chunk), so a chunk of a few rows is mostly waiting.
    /// </summary>
    public const int MinShrinkingRows = 32;

    private readonly int _rows;
    private readonly int _equalRows;   // rows per chunk when equal; 0 when shrinking
    private readonly int _divisor;     // a shrinking chunk takes 1/_divisor of the rows left...
    private readonly int _minRows;     // ...but at least this many

    private RowChunks(int rows, int equalRows, int divisor, int minRows)
    {
        _rows = rows;
        _equalRows = equalRows;
        _divisor = divisor;
        _minRows = minRows;
        Count = equalRows > 0 ? (rows + equalRows - 1) / equalRows : CountShrinking();
    }

    /// <summary>Chunks (at least one).</summary>
    public int Count { get; }

    /// <summary>All rows in one chunk (a product too small to share).</summary>
    public static RowChunks Single(int rows) => new(rows, Math.Max(rows, 1), 0, 0);

    /// <summary>Four equal chunks per thread (rounded up to <see cref="MatMulWork.RowGroup"/>).</summary>
    public static RowChunks Equal(int rows, int threads)
    {
        int target = threads * 4;
        int perChunk = RoundUp((rows + target - 1) / target);
        return new(rows, perChunk, 0, 0);
    }

    /// <summary>
    /// Shrinking chunks for <paramref name="threads"/> threads: 1 / (2 · threads) of the rows left per chunk (a quarter
    /// at two threads), at least 1 / (16 · threads) of all and at least <see cref="MinShrinkingRows"/>.
    /// </summary>
    public static RowChunks Shrinking(int rows, int threads) =>
        new(rows, 0, 2 * threads, RoundUp(Math.Max(MinShrinkingRows, rows / (16 * threads))));

    /// <summary>Rows [<paramref name="r0"/>, <paramref name="r1"/>) of chunk <paramref name="chunk"/>.</summary>
    public void Range(int chunk, out int r0, out int r1)
    {
        Debug.Assert(chunk >= 0 && chunk < Count, "Chunk index out of range.");
        if (_equalRows > 0)
        {
            r0 = chunk * _equalRows;
            r1 = Math.Min(_rows, r0 + _equalRows);
            return;
        }

        r0 = 0;
        for (int c = 0; c < chunk; c++)
        {
            r0 += Size(_rows - r0);
        }

        r1 = r0 + Size(_rows - r0);
    }

    private static int RoundUp(int rows) => (rows + MatMulWork.RowGroup - 1) / MatMulWork.RowGroup * MatMulWork.RowGroup;

    /// <summary>The next shrinking chunk's rows when <paramref name="left"/> rows are left.</summary>
    private int Size(int left) => Math.Min(left, Math.Max(_minRows, RoundUp((left + _divisor - 1) / _divisor)));

    private int CountShrinking()
    {
        int count = 0;
        for (int r = 0; r < _rows; r += Size(_rows - r))
        {
            count++;
        }

        return Math.Max(count, 1);
    }
}
