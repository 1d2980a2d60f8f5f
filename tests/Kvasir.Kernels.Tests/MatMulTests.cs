using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests;

/// <summary>MatMul for every type against a naive double loop over the reference-dequantized weights.</summary>
public sealed class MatMulTests : IDisposable
{
    private readonly KernelThreadPool _single = new(1);
    private readonly KernelThreadPool _three = new(3);

    public static TheoryData<GgmlType> Types() => TestData.TypeData();

    public void Dispose()
    {
        _single.Dispose();
        _three.Dispose();
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Compute_MatchesDoubleLoop(GgmlType type)
    {
        int blockSize = QuantTraits.Get(type).BlockSize;
        int[] colsOptions = blockSize == 1 ? [37, 64, 133] : blockSize == 32 ? [32, 96, 256] : [256, 512];
        var rng = new Random(60 + (int)type);
        foreach (int cols in colsOptions)
        {
            foreach (int rows in new[] { 1, 13, 67 })
            {
                foreach (int n in new[] { 1, 3, 4, 7, 8, 17, 24, 41 })
                {
                    Check(type, rows, cols, n, rng);
                }
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q8_0)]
    public void Compute_ManyTokens_SpansSeveralTokenBlocks(GgmlType type)
    {
        // Tokens are packed in blocks of 96 (micro-tiles of 24): 217 tokens take two full blocks and one of 25
        // (a micro-tile of 24 and one of a single token), and 22 rows end in a partial row group.
        Check(type, rows: 22, cols: 2048, n: 217, new Random(70));
    }

    [Fact]
    public void Compute_ValidatesArguments()
    {
        var w = new byte[QuantTraits.RowBytes(GgmlType.Q8_0, 64) * 3];
        var x = new float[2 * 64];
        var y = new float[2 * 3];
        MatMul.Compute(GgmlType.Q8_0, w, 3, 64, x, y, 2);
        Assert.Throws<ArgumentException>(() => MatMul.Compute(GgmlType.Q8_0, w.AsSpan(1), 3, 64, x, y, 2));
        Assert.Throws<ArgumentException>(() => MatMul.Compute(GgmlType.Q8_0, w, 3, 64, x.AsSpan(1), y, 2));
        Assert.Throws<ArgumentException>(() => MatMul.Compute(GgmlType.Q8_0, w, 3, 64, x, y.AsSpan(1), 2));
        Assert.Throws<ArgumentException>(() => MatMul.Compute(GgmlType.Q8_0, w, 3, 48, x, y, 2));
        Assert.Throws<ArgumentException>(() => MatMul.Compute(GgmlType.Q2_K, w, 3, 256, x, y, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.Compute(GgmlType.Q8_0, w, -1, 64, x, y, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.Compute(GgmlType.Q8_0, w, 3, 64, x, y, -2));
    }

    [Fact]
    public void Compute_EmptyShapes()
    {
        var y = new float[] { 5, 5, 5, 5 };
        MatMul.Compute(GgmlType.F32, [], 2, 0, [], y, 2);
        Assert.Equal([0f, 0f, 0f, 0f], y);
        y[0] = 7;
        MatMul.Compute(GgmlType.F32, [], 0, 4, new float[8], y, 2);
        MatMul.Compute(GgmlType.F32, new byte[32], 2, 4, [], y, 0);
        Assert.Equal(7f, y[0]);
    }

    private void Check(GgmlType type, int rows, int cols, int n, Random rng)
    {
        var weights = TestData.RandomRow(type, rows * cols, rng);
        var x = TestData.Floats(rng, n * cols, 2);
        var w = TestData.DequantizeReference(type, weights, rows * cols);
        foreach (var pool in new[] { KernelThreadPool.Shared, _single, _three })
        {
            var y = new float[(n * rows) + 3];
            y.AsSpan(n * rows).Fill(-12345f);
            MatMul.Compute(type, weights, rows, cols, x, y, n, pool);
            for (int t = 0; t < n; t++)
            {
                for (int r = 0; r < rows; r++)
                {
                    var (expected, magnitude) = TestData.ExactDot(w.AsSpan(r * cols, cols), x.AsSpan(t * cols, cols));
                    TestData.AssertClose(expected, y[(t * rows) + r], Tolerance.MatMul, magnitude,
                        $"{type} rows={rows} cols={cols} n={n} threads={pool.ThreadCount} t={t} r={r}");
                }
            }

            Assert.All(y[(n * rows)..], v => Assert.Equal(-12345f, v));
        }
    }
}
