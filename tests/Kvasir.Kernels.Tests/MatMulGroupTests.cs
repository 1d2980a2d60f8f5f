using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests;

/// <summary><see cref="MatMul.ComputeGroup(ReadOnlySpan{float}, int, int, KernelThreadPool, MatMulActivations, MatMulProduct, MatMulProduct, MatMulProduct)"/>: the same bits as separate products, with shared or separate activation preparation.</summary>
public sealed class MatMulGroupTests : IDisposable
{
    private readonly KernelThreadPool _three = new(3);

    public void Dispose() => _three.Dispose();

    public static TheoryData<GgmlType, GgmlType, GgmlType> Groups() => new()
    {
        { GgmlType.Q8_0, GgmlType.Q8_0, GgmlType.Q8_0 },  // one Q8_0 quantization for all three
        { GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q6_K },  // Q4_K_M's Q, K, V: one Q8_K quantization
        { GgmlType.Q5_0, GgmlType.Q5_0, GgmlType.Q8_0 },  // M Q4_K_M's
        { GgmlType.Q4_K, GgmlType.Q8_0, GgmlType.F16 },   // three different preparations
        { GgmlType.F16, GgmlType.F16, GgmlType.F32 },
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public void ComputeGroup_IsBitIdenticalToSeparateProducts(GgmlType a, GgmlType b, GgmlType c)
    {
        var rng = new Random(200 + (int)a + (10 * (int)c));
        const int cols = 512;
        int[] rows = [40, 13, 67];
        GgmlType[] types = [a, b, c];
        var weights = new byte[3][];
        for (int p = 0; p < 3; p++)
        {
            weights[p] = TestData.RandomRow(types[p], rows[p] * cols, rng);
        }

        foreach (int n in new[] { 1, 3, 5, 9, 70 })
        {
            var x = TestData.Floats(rng, n * cols, 2);
            foreach (var activations in new[] { MatMulActivations.Int8, MatMulActivations.Float })
            {
                foreach (var pool in new[] { KernelThreadPool.Shared, _three })
                {
                    var expected = new float[3][];
                    var actual = new float[3][];
                    for (int p = 0; p < 3; p++)
                    {
                        expected[p] = new float[n * rows[p]];
                        actual[p] = new float[n * rows[p]];
                        MatMul.Compute(types[p], weights[p], rows[p], cols, x, expected[p], n, pool, activations);
                    }

                    MatMul.ComputeGroup(
                        x, cols, n, pool, activations,
                        new MatMulProduct(a, weights[0], rows[0], actual[0]),
                        new MatMulProduct(b, weights[1], rows[1], actual[1]),
                        new MatMulProduct(c, weights[2], rows[2], actual[2]));
                    for (int p = 0; p < 3; p++)
                    {
                        Assert.True(expected[p].AsSpan().SequenceEqual(actual[p]), $"{types[p]} (product {p}) n={n} {activations}");
                    }

                    // Two products (the third left empty), as the FFN's gate and up.
                    Array.Clear(actual[0]);
                    Array.Clear(actual[1]);
                    MatMul.ComputeGroup(
                        x, cols, n, pool, activations,
                        new MatMulProduct(a, weights[0], rows[0], actual[0]),
                        new MatMulProduct(b, weights[1], rows[1], actual[1]));
                    Assert.Equal(expected[0], actual[0]);
                    Assert.Equal(expected[1], actual[1]);
                }
            }
        }
    }

    [Fact]
    public void ComputeGroup_WideGemm_SharesItsOwnPacking()
    {
        // With the Vector512 GEMM (run in software here) the group packs the tokens once in tiles of 48 and every
        // product reads them: the same bits as separate products at either width.
        var rng = new Random(210);
        const int cols = 256, n = 50;
        int[] rows = [24, 8, 8];
        GgmlType[] types = [GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.F16];
        var x = TestData.Floats(rng, n * cols, 2);
        var weights = new byte[3][];
        var expected = new float[3][];
        var actual = new float[3][];
        for (int p = 0; p < 3; p++)
        {
            weights[p] = TestData.RandomRow(types[p], rows[p] * cols, rng);
            expected[p] = new float[n * rows[p]];
            actual[p] = new float[n * rows[p]];
            MatMul.Compute(types[p], weights[p], rows[p], cols, x, expected[p], n, _three, MatMulActivations.Float, SimdWidth.V256);
        }

        MatMul.ComputeGroup(
            x, cols, n, _three, MatMulActivations.Float, SimdWidth.V512,
            new MatMulProduct(types[0], weights[0], rows[0], actual[0]),
            new MatMulProduct(types[1], weights[1], rows[1], actual[1]),
            new MatMulProduct(types[2], weights[2], rows[2], actual[2]));
        for (int p = 0; p < 3; p++)
        {
            Assert.True(expected[p].AsSpan().SequenceEqual(actual[p]), $"{types[p]} (product {p})");
        }
    }

    [Fact]
    public void ComputeGroup_ValidatesEveryProduct()
    {
        var w = new byte[QuantTraits.RowBytes(GgmlType.Q8_0, 64) * 3];
        var x = new float[2 * 64];
        var y = new float[2 * 3];
        var small = new float[5];
        MatMul.ComputeGroup(x, 64, 2, KernelThreadPool.Shared, MatMulActivations.Int8, new(GgmlType.Q8_0, w, 3, y), new(GgmlType.Q8_0, w, 3, new float[6]));
        Assert.Throws<ArgumentException>(() => MatMul.ComputeGroup(
            x, 64, 2, KernelThreadPool.Shared, MatMulActivations.Int8, new(GgmlType.Q8_0, w, 3, y), new(GgmlType.Q8_0, w, 3, small)));
        Assert.Throws<ArgumentException>(() => MatMul.ComputeGroup(
            x, 64, 2, KernelThreadPool.Shared, MatMulActivations.Int8, new(GgmlType.Q8_0, w, 3, y), new(GgmlType.Q8_0, w, 3, y), new(GgmlType.Q8_0, w.AsSpan(1), 3, y)));
        Assert.Throws<ArgumentException>(() => MatMul.ComputeGroup(
            x.AsSpan(1), 64, 2, KernelThreadPool.Shared, MatMulActivations.Int8, new(GgmlType.Q8_0, w, 3, y), new(GgmlType.Q8_0, w, 3, y)));
    }
}
