using System.Runtime.InteropServices;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class RowBF16Tests
{
    [Theory]
    [InlineData(1.0f, 0x3F80)]
    [InlineData(1.00390625f, 0x3F80)]   // 1 + 2^-8: a tie, rounds to the even mantissa (1.0)
    [InlineData(1.01171875f, 0x3F82)]   // 1 + 3·2^-8: a tie, rounds to the even mantissa (1 + 2^-6)
    [InlineData(1.0039064f, 0x3F81)]    // one float ulp above the tie rounds up
    [InlineData(-2.0f, 0xC000)]
    [InlineData(float.PositiveInfinity, 0x7F80)]
    [InlineData(3.4028235e38f, 0x7F80)] // float max rounds to infinity
    public void Narrowing_RoundsToNearestEven(float value, int expected)
    {
        Assert.Equal((ushort)expected, RowBF16.FromSingle(value));
    }

    [Fact]
    public void Narrowing_QuietsNaN()
    {
        ushort bits = RowBF16.FromSingle(BitConverter.Int32BitsToSingle(0x7F800001));
        Assert.True(float.IsNaN(RowBF16.ToSingle(bits)));
        Assert.Equal(0x40, bits & 0x40);
    }

    [Fact]
    public void Widening_EveryValue_IsExact()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++)
        {
            bits[i] = (ushort)i;
        }

        foreach (var width in TestData.Widths())
        {
            var y = new float[65536];
            RowBF16.Dequantize(MemoryMarshal.AsBytes(bits.AsSpan()), y, width);
            var expected = Enumerable.Range(0, 65536).Select(i => i << 16).ToArray();
            Assert.Equal(expected, MemoryMarshal.Cast<float, int>(y).ToArray());
        }
    }

    [Fact]
    public void RoundTrip_IsWithinHalfAnUlp()
    {
        var rng = new Random(48);
        var x = TestData.Floats(rng, 1000, 100);
        var row = new byte[2000];
        Quantize.Row(GgmlType.BF16, x, row);
        var y = new float[1000];
        Dequantize.Row(GgmlType.BF16, row, y);
        for (int i = 0; i < x.Length; i++)
        {
            if (!(Math.Abs(x[i] - y[i]) <= Math.Abs(x[i]) * Tolerance.BF16RoundTripRelative))
            {
                Assert.Fail($"element {i}");
            }
        }
    }
}
