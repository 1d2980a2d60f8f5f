using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

/// <summary>The integer dot products of the Int8 MatMul path (weights × Q8_0 / Q8_K activations).</summary>
public sealed class Int8DotTests : IDisposable
{
    private readonly KernelThreadPool _three = new(3);

    public static TheoryData<GgmlType> Types() =>
    [
        GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
        GgmlType.IQ4_NL, GgmlType.IQ4_XS,
    ];

    public void Dispose() => _three.Dispose();

    [Theory]
    [MemberData(nameof(Types))]
    public void SimdAndReference_MatchTheDotOfDequantizedOperands(GgmlType type)
    {
        var activationType = MatMul.Int8ActivationType(type);
        int blockSize = QuantTraits.Get(type).BlockSize;
        var rng = new Random(100 + (int)type);
        for (int blocks = 0; blocks <= 9; blocks++)
        {
            int n = blocks * blockSize;
            var row = TestData.RandomRow(type, n, rng);
            var activations = new byte[MatMul.Int8ActivationRowBytes(activationType, n)];
            MatMul.QuantizeInt8Activations(activationType, TestData.Floats(rng, n, 3), activations);
            var w = TestData.DequantizeReference(type, row, n);
            var a = TestData.DequantizeReference(activationType, activations, n);
            var (expected, magnitude) = TestData.ExactDot(w, a);

            float reference = MatMul.DotInt8Unchecked(type, row, activations, blocks, SimdWidth.Scalar);
            TestData.AssertClose(expected, reference, Tolerance.Int8Dot, magnitude, $"{type} reference blocks={blocks}");
            foreach (var width in TestData.Widths())
            {
                var rowAtOffset = TestData.AtOffset(row, 3);
                var activationsAtOffset = TestData.AtOffset(activations, 1);
                float actual = MatMul.DotInt8Unchecked(type, rowAtOffset, activationsAtOffset, blocks, width);
                TestData.AssertClose(reference, actual, Tolerance.Int8Dot, magnitude, $"{type} {width} blocks={blocks}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void MatMulInt8_IsWithinTheActivationRoundingOfTheExactProduct(GgmlType type)
    {
        var activationType = MatMul.Int8ActivationType(type);
        int blockSize = QuantTraits.Get(activationType).BlockSize;
        double step = activationType == GgmlType.Q8_0 ? Tolerance.Q8_0ActivationStep : Tolerance.Q8_KActivationStep;
        var rng = new Random(110 + (int)type);
        int cols = blockSize == 32 ? 544 : 512; // 17 blocks of 32: the four-token kernel's block tail runs too
        foreach (int n in new[] { 1, 3, 6, 13, 17, 70 })
        {
            foreach (int rows in new[] { 1, 13, 67 })
            {
                var weights = TestData.RandomRow(type, rows * cols, rng);
                var x = TestData.Floats(rng, n * cols, 2);
                var w = TestData.DequantizeReference(type, weights, rows * cols);
                foreach (var pool in new[] { KernelThreadPool.Shared, _three })
                {
                    var y = new float[n * rows];
                    MatMul.Compute(type, weights, rows, cols, x, y, n, pool, MatMulActivations.Int8);
                    for (int t = 0; t < n; t++)
                    {
                        var xt = x.AsSpan(t * cols, cols);
                        for (int r = 0; r < rows; r++)
                        {
                            var wr = w.AsSpan(r * cols, cols);
                            var (exact, magnitude) = TestData.ExactDot(wr, xt);

                            // Each activation moves by at most step · (its block's max |x|).
                            double bound = 0;
                            for (int b = 0; b < cols / blockSize; b++)
                            {
                                double amax = 0;
                                double wsum = 0;
                                for (int j = b * blockSize; j < (b + 1) * blockSize; j++)
                                {
                                    amax = Math.Max(amax, Math.Abs(xt[j]));
                                    wsum += Math.Abs(wr[j]);
                                }

                                bound += wsum * amax * step;
                            }

                            double error = Math.Abs(y[(t * rows) + r] - exact);
                            if (!(error <= bound + (Tolerance.Int8Dot * magnitude)))
                            {
                                Assert.Fail($"{type} n={n} rows={rows} t={t} r={r}: error {error:E3} > bound {bound:E3}");
                            }
                        }
                    }

                    // Below Int8MaxTokens (4; 8 with a four-token kernel, or every n with Q8_0Gemm; IQ4_XS 12; Q2_K/Q3_K/Q5_K/Q6_K
                    // 24 and Q4_K every n, 24 at 512 bits, eight a pass)
                    // Int8 is a different rounding, not the float path under another name, and each token's row is
                    // bit-identical to the token multiplied alone; from there on the float tiled kernels run.
                    if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                    {
                        continue; // MatMul takes the integer path on AVX2 only: elsewhere y is the float path's
                    }

                    var yFloat = new float[n * rows];
                    MatMul.Compute(type, weights, rows, cols, x, yFloat, n, pool, MatMulActivations.Float);
                    if (MatMulWork.UsesInt8Gemm(type, Simd.Best) && n >= MatMulWork.Int8GemmMinTokens(type))
                    {
                        // An integer GEMM (AVX-VNNI machines): not the one-token kernel's bits, but each token's result does
                        // not depend on its place in the batch or on its neighbours: the same tokens in reverse order.
                        Assert.NotEqual(yFloat, y);
                        var reversed = new float[n * cols];
                        for (int t = 0; t < n; t++)
                        {
                            x.AsSpan(t * cols, cols).CopyTo(reversed.AsSpan((n - 1 - t) * cols, cols));
                        }

                        var yReversed = new float[n * rows];
                        MatMul.Compute(type, weights, rows, cols, reversed, yReversed, n, pool, MatMulActivations.Int8);
                        for (int t = 0; t < n; t++)
                        {
                            Assert.Equal(y.AsSpan(t * rows, rows).ToArray(), yReversed.AsSpan((n - 1 - t) * rows, rows).ToArray());
                        }
                    }
                    else if (n < MatMulWork.Int8MaxTokens(type, Simd.Best))
                    {
                        Assert.NotEqual(yFloat, y);
                        var alone = new float[rows];
                        for (int t = 0; t < n; t++)
                        {
                            MatMul.Compute(type, weights, rows, cols, x.AsSpan(t * cols, cols), alone, 1, pool, MatMulActivations.Int8);
                            Assert.Equal(alone, y.AsSpan(t * rows, rows).ToArray());
                        }
                    }
                    else
                    {
                        Assert.Equal(yFloat, y);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q8_K)]
    public void MatMulInt8_FallsBackToFloat_ForTypesWithoutAnIntegerKernel(GgmlType type)
    {
        var rng = new Random(120);
        var weights = TestData.RandomRow(type, 7 * 256, rng);
        var x = TestData.Floats(rng, 2 * 256);
        var yInt8 = new float[14];
        var yFloat = new float[14];
        MatMul.Compute(type, weights, 7, 256, x, yInt8, 2, KernelThreadPool.Shared, MatMulActivations.Int8);
        MatMul.Compute(type, weights, 7, 256, x, yFloat, 2, KernelThreadPool.Shared, MatMulActivations.Float);
        Assert.Equal(yFloat, yInt8);
    }
}
