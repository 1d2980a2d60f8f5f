using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

/// <summary>
/// For every supported type: each SIMD path against the scalar reference (dequantize bit-exact, dot
/// within the type's named tolerance), over block-multiple lengths and unaligned starts.
/// </summary>
public class QuantFormatTests
{
    public static TheoryData<GgmlType> Types() => TestData.TypeData();

    /// <summary>Lengths 0..257 that the type allows (every length for float types, block multiples otherwise).</summary>
    private static IEnumerable<int> Lengths(GgmlType type)
    {
        int blockSize = QuantTraits.Get(type).BlockSize;
        int max = Math.Max(257, 3 * blockSize);
        for (int n = 0; n <= max; n += blockSize)
        {
            yield return n;
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Dequantize_EveryPathIsBitExactWithReference(GgmlType type)
    {
        var rng = new Random(10 + (int)type);
        foreach (int n in Lengths(type))
        {
            foreach (int byteOffset in new[] { 0, 1, 3 })
            {
                var row = TestData.AtOffset(TestData.RandomRow(type, n, rng), byteOffset);
                var expected = new float[n];
                Dequantize.Row(type, row, expected, SimdWidth.Scalar);
                foreach (var width in TestData.Widths())
                {
                    var actual = TestData.AtOffset(new float[n], 1);
                    Dequantize.Row(type, row, actual, width);
                    for (int i = 0; i < n; i++)
                    {
                        if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                        {
                            Assert.Fail($"{type} {width} n={n} i={i}: {expected[i]} vs {actual[i]}");
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Dot_EveryPathMatchesExactDotOfReferenceValues(GgmlType type)
    {
        var rng = new Random(20 + (int)type);
        double tolerance = Tolerance.Dot(type);
        foreach (int n in Lengths(type))
        {
            foreach (int offset in new[] { 0, 1, 2 })
            {
                var rowBytes = TestData.RandomRow(type, n, rng);
                var row = TestData.AtOffset(rowBytes, offset + 1);
                var x = TestData.AtOffset(TestData.Floats(rng, n, 2), offset);
                var (expected, magnitude) = TestData.ExactDot(TestData.DequantizeReference(type, rowBytes, n), x);
                foreach (var width in TestData.Widths())
                {
                    float actual = MatMul.DotUnchecked(type, row, x, width);
                    TestData.AssertClose(expected, actual, tolerance, magnitude, $"{type} {width} n={n} offset={offset}");
                }

                Assert.Equal(MatMul.DotUnchecked(type, row, x, Simd.Best), MatMul.Dot(type, row, x));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void PublicRow_ValidatesLengths(GgmlType type)
    {
        var traits = QuantTraits.Get(type);
        int n = 2 * traits.BlockSize;
        var row = new byte[QuantTraits.RowBytes(type, n)];
        Assert.Throws<ArgumentException>(() => Dequantize.Row(type, row.AsSpan(0, row.Length - 1), new float[n]));
        Assert.Throws<ArgumentException>(() => MatMul.Dot(type, row.AsSpan(0, row.Length - 1), new float[n]));
        if (traits.BlockSize > 1)
        {
            Assert.Throws<ArgumentException>(() => Dequantize.Row(type, row, new float[n - 1]));
            Assert.Throws<ArgumentException>(() => MatMul.Dot(type, row, new float[n - 1]));
        }

        // Longer sources are fine: only the needed bytes are read.
        Dequantize.Row(type, new byte[row.Length + 7], new float[n]);
    }

    [Fact]
    public void UnsupportedType_IsNamedInTheError()
    {
        var ex = Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.IQ2_XXS, new byte[66], new float[256]));
        Assert.Contains("IQ2_XXS", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => MatMul.Dot(GgmlType.IQ3_S, new byte[110], new float[256]));
        Assert.Contains("IQ3_S", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q4_K, new float[256], new byte[144]));
        Assert.Contains("Q4_K", ex.Message);
    }
}
