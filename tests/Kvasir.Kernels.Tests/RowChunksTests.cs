namespace Kvasir.Kernels.Tests;

public sealed class RowChunksTests
{
    public static TheoryData<int, int> Shapes => new()
    {
        { 4, 2 }, { 8, 2 }, { 12, 2 }, { 256, 2 }, { 896, 2 }, { 2048, 2 }, { 5632, 2 }, { 32000, 2 }, { 151936, 2 },
        { 100, 3 }, { 2050, 4 }, { 4864, 8 }, { 32001, 16 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Shrinking_CoversEveryRowOnceInNonGrowingChunksOnRowGroupBoundaries(int rows, int threads)
    {
        var chunks = RowChunks.Shrinking(rows, threads);
        int end = 0;
        int previous = int.MaxValue;
        for (int c = 0; c < chunks.Count; c++)
        {
            chunks.Range(c, out int r0, out int r1);
            Assert.Equal(end, r0);
            Assert.True(r1 > r0, $"chunk {c} of {rows} rows is empty");
            Assert.Equal(0, r0 % MatMulWork.RowGroup);
            Assert.True(r1 - r0 <= previous || r1 == rows, $"chunk {c} ({r1 - r0} rows) is longer than the one before ({previous})");
            previous = r1 - r0;
            end = r1;
        }

        Assert.Equal(rows, end);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Shrinking_StartsWithAShareOfTheRowsAndEndsShort(int rows, int threads)
    {
        var chunks = RowChunks.Shrinking(rows, threads);
        chunks.Range(0, out _, out int first);
        Assert.True(first <= Math.Max(RowChunks.MinShrinkingRows, rows / (2 * threads)) + MatMulWork.RowGroup, $"first chunk {first} of {rows}");
        chunks.Range(chunks.Count - 1, out int r0, out int r1);
        Assert.True(r1 - r0 <= Math.Max(RowChunks.MinShrinkingRows, rows / (16 * threads)) + MatMulWork.RowGroup, $"last chunk {r1 - r0} of {rows}");
    }

    [Fact]
    public void Shrinking_TwoThreads2048Rows_IsTheDocumentedSequence()
    {
        // A quarter of the rows left per chunk, rounded up to the row group, at least 1/32 of all (64 rows).
        var chunks = RowChunks.Shrinking(2048, 2);
        var sizes = new List<int>();
        for (int c = 0; c < chunks.Count; c++)
        {
            chunks.Range(c, out int r0, out int r1);
            sizes.Add(r1 - r0);
        }

        Assert.Equal([512, 384, 288, 216, 164, 124, 92, 68, 64, 64, 64, 8], sizes);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Equal_CoversEveryRowOnceInFourChunksPerThread(int rows, int threads)
    {
        var chunks = RowChunks.Equal(rows, threads);
        Assert.True(chunks.Count <= 4 * threads);
        int end = 0;
        for (int c = 0; c < chunks.Count; c++)
        {
            chunks.Range(c, out int r0, out int r1);
            Assert.Equal(end, r0);
            Assert.True(r1 > r0);
            end = r1;
        }

        Assert.Equal(rows, end);
    }

    [Fact]
    public void Single_IsOneChunkOfAllRows()
    {
        var chunks = RowChunks.Single(37);
        Assert.Equal(1, chunks.Count);
        chunks.Range(0, out int r0, out int r1);
        Assert.Equal((0, 37), (r0, r1));
    }
}
