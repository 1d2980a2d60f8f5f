using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class QuantTraitsTests
{
    [Theory]
    [InlineData(GgmlType.F32, "f32", 1, 4)]
    [InlineData(GgmlType.F16, "f16", 1, 2)]
    [InlineData(GgmlType.BF16, "bf16", 1, 2)]
    [InlineData(GgmlType.Q4_0, "q4_0", 32, 18)]
    [InlineData(GgmlType.Q4_1, "q4_1", 32, 20)]
    [InlineData(GgmlType.Q5_0, "q5_0", 32, 22)]
    [InlineData(GgmlType.Q5_1, "q5_1", 32, 24)]
    [InlineData(GgmlType.Q8_0, "q8_0", 32, 34)]
    [InlineData(GgmlType.Q2_K, "q2_K", 256, 84)]
    [InlineData(GgmlType.Q3_K, "q3_K", 256, 110)]
    [InlineData(GgmlType.Q4_K, "q4_K", 256, 144)]
    [InlineData(GgmlType.Q5_K, "q5_K", 256, 176)]
    [InlineData(GgmlType.Q6_K, "q6_K", 256, 210)]
    [InlineData(GgmlType.Q8_K, "q8_K", 256, 292)]
    [InlineData(GgmlType.IQ4_NL, "iq4_nl", 32, 18)]
    [InlineData(GgmlType.IQ4_XS, "iq4_xs", 256, 136)]
    public void Table_MatchesGgml(GgmlType type, string name, int blockSize, int blockBytes)
    {
        Assert.True(QuantTraits.IsSupported(type));
        Assert.True(QuantTraits.TryGet(type, out var traits));
        Assert.Equal(new QuantTraits(type, name, blockSize, blockBytes), traits);
        Assert.Equal(traits, QuantTraits.Get(type));
        Assert.Equal(3L * blockBytes, QuantTraits.RowBytes(type, 3L * blockSize));
    }

    [Theory]
    [InlineData(GgmlType.IQ2_XXS)]
    [InlineData(GgmlType.IQ3_S)]
    [InlineData(GgmlType.Q8_1)]
    [InlineData(GgmlType.IQ1_S)]
    [InlineData(GgmlType.I32)]
    [InlineData(GgmlType.MXFP4)]
    [InlineData((GgmlType)4)]
    [InlineData((GgmlType)1000)]
    public void UnsupportedTypes_AreRejected(GgmlType type)
    {
        Assert.False(QuantTraits.IsSupported(type));
        Assert.False(QuantTraits.TryGet(type, out var traits));
        Assert.Equal(default, traits);
        var ex = Assert.Throws<ArgumentException>(() => QuantTraits.Get(type));
        Assert.Contains(type.ToString(), ex.Message);
        Assert.Throws<ArgumentException>(() => QuantTraits.RowBytes(type, 256));
    }

    [Fact]
    public void RowBytes_RejectsPartialBlocks()
    {
        var ex = Assert.Throws<ArgumentException>(() => QuantTraits.RowBytes(GgmlType.Q4_K, 576));
        Assert.Contains("256", ex.Message);
        Assert.Throws<ArgumentException>(() => QuantTraits.RowBytes(GgmlType.Q8_0, -32));
        Assert.Equal(0, QuantTraits.RowBytes(GgmlType.Q8_0, 0));
        Assert.Equal(18L * 5_000_000, QuantTraits.RowBytes(GgmlType.Q4_0, 32L * 5_000_000));
        Assert.Equal(7 * 4, QuantTraits.RowBytes(GgmlType.F32, 7));
    }
}
