using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ4_1Tests
{
    [Fact]
    public void HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 0.5 (0x3800), m = -2 (0xC000), qs[j] = j | (15 - j) << 4.
        var block = new byte[20];
        block[1] = 0x38;
        block[3] = 0xC0;
        for (int j = 0; j < 16; j++)
        {
            block[4 + j] = (byte)(j | ((15 - j) << 4));
        }

        foreach (var width in TestData.Widths())
        {
            var y = new float[32];
            Dequantize.Row(GgmlType.Q4_1, block, y, width);
            Assert.Equal(-2f, y[0]);
            Assert.Equal(5.5f, y[16]);
            for (int j = 0; j < 16; j++)
            {
                Assert.Equal((j * 0.5f) - 2, y[j]);
                Assert.Equal(((15 - j) * 0.5f) - 2, y[j + 16]);
            }
        }
    }

    [Fact]
    public void RoundTrip_ErrorIsWithinHalfAStep()
    {
        var rng = new Random(42);
        var x = TestData.Floats(rng, 32 * 64, 3);
        var row = new byte[QuantTraits.RowBytes(GgmlType.Q4_1, x.Length)];
        Quantize.Row(GgmlType.Q4_1, x, row);
        var y = new float[x.Length];
        Dequantize.Row(GgmlType.Q4_1, row, y);
        for (int b = 0; b < 64; b++)
        {
            var xb = x.AsSpan(b * 32, 32);
            float min = float.MaxValue;
            float max = float.MinValue;
            foreach (float v in xb)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }

            double d = (max - min) / 15.0;
            double bound = (d / 2) + ((Math.Abs(min) + (15 * d)) / 2048.0);
            for (int j = 0; j < 32; j++)
            {
                if (!(Math.Abs(xb[j] - y[(b * 32) + j]) <= bound))
                {
                    Assert.Fail($"block {b} element {j}");
                }
            }
        }
    }
}
