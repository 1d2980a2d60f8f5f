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
    public void Compute_WideGemm_F16_PrescaledTokens_GiveThePlainProducts_AndFallBackOnLargeTokensAndInfinities()
    {
        // With wide tiles F16 rows widen to w · 2^-112 against tokens times 2^112 (RowF16.WidenScaledDown): the same
        // products. A token of magnitude 2^16 or more keeps the plain packing; a row holding an infinity widens exactly
        // and is scaled. Rows of subnormal halves, one with +inf; 16 tokens (the column-pair kernel) and 49 (4 × 48,
        // 4 × 16). At 49 the results are the Vector256 kernels' bits. At 16 the pair kernel adds in another order than
        // those, so there the prescaled run is held to the plain run of the same kernel: one large token (−70000)
        // sends the whole product down the plain path, and every other token must come out with the same bits.
        const int rows = 12, cols = 133;
        var rng = new Random(88);
        var weights = TestData.RandomRow(GgmlType.F16, rows * cols, rng);
        var halves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(weights.AsSpan());
        for (int j = 0; j < cols; j++)
        {
            halves[(3 * cols) + j] = (ushort)(rng.Next(1, 1024) | (rng.Next(2) << 15)); // subnormal halves of either sign
        }

        halves[(7 * cols) + 40] = 0x7C00; // +inf
        foreach (int n in new[] { 16, 49 })
        {
            var x = TestData.Floats(rng, n * cols, 2);
            var large = x.ToArray();
            large[(5 * cols) + 17] = -70000f;
            var results = new List<float[]>();
            foreach (var xs in new[] { x, large })
            {
                var narrow = new float[n * rows];
                var wide = new float[n * rows];
                MatMul.Compute(GgmlType.F16, weights, rows, cols, xs, narrow, n, _three, MatMulActivations.Float, SimdWidth.V256);
                MatMul.Compute(GgmlType.F16, weights, rows, cols, xs, wide, n, _three, MatMulActivations.Float, SimdWidth.V512);
                if (n > 16)
                {
                    for (int i = 0; i < narrow.Length; i++)
                    {
                        Assert.True(SameBitsOrBothNaN(narrow[i], wide[i]), $"n={n} large={xs == large} at {i}: {wide[i]} != {narrow[i]}");
                    }
                }

                Assert.True(float.IsInfinity(wide[7]) || float.IsNaN(wide[7]), "the row with +inf stays infinite");
                results.Add(wide);
            }

            for (int t = 0; t < n; t++)
            {
                for (int r = 0; r < rows && t != 5; r++)
                {
                    int i = (t * rows) + r;
                    Assert.True(SameBitsOrBothNaN(results[0][i], results[1][i]), $"n={n} t={t} r={r}: prescaled {results[0][i]} != plain {results[1][i]}");
                }
            }
        }

        static bool SameBitsOrBothNaN(float a, float b) =>
            BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b));
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void Compute_WideGemm_IsBitIdenticalToVector256_ExceptTheColumnPairBlock(GgmlType type)
    {
        // The Vector512 GEMM kernels (micro-tiles of 48 tokens: 4 × 48, 4 × 32, 4 × 16) run here in software when
        // the machine lacks AVX-512; they must give the Vector256 kernels' bits (same order of accumulation), and the
        // double loop's values. A last block of at most 16 tokens runs Kernel8x16Pairs, which adds the even and the
        // odd columns apart: within Tolerance.MatMul of the Vector256 results there, not their bits. n covers every
        // last-tile width class of both layouts and several token blocks (192 tokens with wide tiles): 8, 9, 16 (pairs),
        // 17 (4 × 32), 33 (4 × 48), 48, 49, 200 (192 + 8 in pairs), 217 (192 + 25); cols 133 for the float types: an odd
        // last column.
        int cols = QuantTraits.Get(type).BlockSize == 1 ? 133 : 512;
        var rng = new Random(80 + (int)type);
        const int rows = 22;
        var weights = TestData.RandomRow(type, rows * cols, rng);
        var w = TestData.DequantizeReference(type, weights, rows * cols);
        foreach (int n in new[] { 8, 9, 16, 17, 33, 48, 49, 200, 217 })
        {
            int pairsFrom = n > 192 ? 192 : 0;
            if (!MatMulWork.PairTile(n, pairsFrom, wideTiles: true))
            {
                pairsFrom = n;
            }

            var x = TestData.Floats(rng, n * cols, 2);
            foreach (var pool in new[] { _single, _three })
            {
                var narrow = new float[n * rows];
                var wide = new float[n * rows];
                MatMul.Compute(type, weights, rows, cols, x, narrow, n, pool, MatMulActivations.Float, SimdWidth.V256);
                MatMul.Compute(type, weights, rows, cols, x, wide, n, pool, MatMulActivations.Float, SimdWidth.V512);
                Assert.True(
                    narrow.AsSpan(0, pairsFrom * rows).SequenceEqual(wide.AsSpan(0, pairsFrom * rows)),
                    $"{type} n={n} threads={pool.ThreadCount}: V512 GEMM differs from V256");
                for (int t = 0; t < n; t++)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        if (t < pairsFrom && t % 7 != 0)
                        {
                            continue;
                        }

                        var (expected, magnitude) = TestData.ExactDot(w.AsSpan(r * cols, cols), x.AsSpan(t * cols, cols));
                        TestData.AssertClose(expected, wide[(t * rows) + r], Tolerance.MatMul, magnitude, $"{type} n={n} t={t} r={r}");
                        if (t >= pairsFrom)
                        {
                            TestData.AssertClose(narrow[(t * rows) + r], wide[(t * rows) + r], Tolerance.MatMul, magnitude, $"{type} n={n} t={t} r={r} against V256");
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.IQ4_NL)]
    [InlineData(GgmlType.IQ4_XS)]
    public void Compute_Int8Path_Vector512_IsBitIdenticalToVector256(GgmlType type)
    {
        // The integer decode path with the 512-bit dot kernels (in software here), one token at a time and four at a
        // time (Q4_0/Q5_0/Q8_0 up to 7 tokens), the K-quants eight at a time, through MatMul: the same bits as Vector256.
        var rng = new Random(90 + (int)type);
        const int rows = 22, cols = 768;
        var weights = TestData.RandomRow(type, rows * cols, rng);
        foreach (int n in new[] { 1, 3, 4, 6, 17 })
        {
            if (n >= MatMulWork.Int8GemmMinTokens(type) && MatMulWork.UsesInt8Gemm(type, SimdWidth.V512) != MatMulWork.UsesInt8Gemm(type, SimdWidth.V256))
            {
                // AVX-512 without AVX-VNNI (Zen 4): only the 512-bit width has an integer GEMM, the 256-bit one takes the
                // float GEMM. Int8GemmTests holds the 512-bit GEMM to the VNNI one bit for bit instead.
                continue;
            }

            var x = TestData.Floats(rng, n * cols, 2);
            var narrow = new float[n * rows];
            var wide = new float[n * rows];
            MatMul.Compute(type, weights, rows, cols, x, narrow, n, _three, MatMulActivations.Int8, SimdWidth.V256);
            MatMul.Compute(type, weights, rows, cols, x, wide, n, _three, MatMulActivations.Int8, SimdWidth.V512);
            Assert.True(narrow.AsSpan().SequenceEqual(wide), $"{type} n={n}: the 512-bit integer path differs from the 256-bit one");
        }
    }

    [Theory]
    [InlineData(13, 7)]
    [InlineData(16, 10)]
    [InlineData(200, 5)]
    public void PackTokens_WideBlockOfAtMostSixteen_LaysOutColumnPairs(int n, int cols)
    {
        // The last block of four wide micro-tiles (192 tokens) holding at most 16 tokens is packed in column pairs for
        // Kernel8x16Pairs: pair p's 32 floats hold tokens 0–7 as (column 2p, column 2p + 1), then tokens 8–15; missing
        // tokens and the odd last column's partner are zeros.
        var x = new float[n * cols];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = i + 1;
        }

        int t0 = n > 192 ? 192 : 0;
        Assert.True(MatMulWork.PairTile(n, t0, wideTiles: true));
        int pairs = (cols + 1) / 2;
        Assert.Equal(((long)t0 * cols) + (32L * pairs), MatMulWork.PackedFloats(n, cols, wideTiles: true));
        var packed = new float[MatMulWork.PackedFloats(n, cols, wideTiles: true)];
        unsafe
        {
            fixed (float* xp = x, pp = packed)
            {
                MatMulWork.PackTokens(xp, n, cols, pp, wideTiles: true);
            }
        }

        for (int p = 0; p < pairs; p++)
        {
            for (int j = 0; j < 16; j++)
            {
                for (int q = 0; q < 2; q++)
                {
                    int k = (2 * p) + q;
                    float expected = t0 + j < n && k < cols ? x[((t0 + j) * cols) + k] : 0f;
                    Assert.Equal(expected, packed[(t0 * cols) + (32 * p) + ((j / 8) * 16) + ((j % 8) * 2) + q]);
                }
            }
        }
    }

    [Fact]
    public void PackTokens_WideTiles_LayOutFortyEightTokenTilesPaddedToSixteen()
    {
        // 53 tokens of 11 columns: one tile of 48, then one of 5 tokens padded to 16 (zeros past token 52).
        const int n = 53, cols = 11;
        var x = new float[n * cols];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = i + 1;
        }

        Assert.Equal(((48 + 16) * cols), MatMulWork.PackedFloats(n, cols, wideTiles: true));
        Assert.Equal(((48 + 8) * cols), MatMulWork.PackedFloats(n, cols, wideTiles: false));
        var packed = new float[MatMulWork.PackedFloats(n, cols, wideTiles: true)];
        unsafe
        {
            fixed (float* xp = x, pp = packed)
            {
                MatMulWork.PackTokens(xp, n, cols, pp, wideTiles: true);
            }
        }

        for (int k = 0; k < cols; k++)
        {
            for (int j = 0; j < 48; j++)
            {
                Assert.Equal(x[(j * cols) + k], packed[(k * 48) + j]);
            }

            for (int j = 0; j < 16; j++)
            {
                float expected = 48 + j < n ? x[((48 + j) * cols) + k] : 0f;
                Assert.Equal(expected, packed[(48 * cols) + (k * 16) + j]);
            }
        }
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
        Assert.Throws<ArgumentException>(() => MatMul.Compute(GgmlType.IQ3_S, w, 3, 256, x, y, 0));
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
