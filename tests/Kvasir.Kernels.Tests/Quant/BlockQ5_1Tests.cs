using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ5_1Tests
{
    private const uint HighBits = 0x1234_F00D;

    [Fact]
    public void HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 0.5 (0x3800), m = 1 (0x3C00), qh = 0x1234F00D, qs[j] = j | (15 - j) << 4.
        var block = new byte[24];
        block[1] = 0x38;
        block[3] = 0x3C;
        block[4] = 0x0D;
        block[5] = 0xF0;
        block[6] = 0x34;
        block[7] = 0x12;
        for (int j = 0; j < 16; j++)
        {
            block[8 + j] = (byte)(j | ((15 - j) << 4));
        }

        foreach (var width in TestData.Widths())
        {
            var y = new float[32];
            Dequantize.Row(GgmlType.Q5_1, block, y, width);
            Assert.Equal((16 * 0.5f) + 1, y[0]); // bit 0 of 0x...0D is set
            Assert.Equal(1.5f, y[1]);            // bit 1 clear: q = 1
            for (int j = 0; j < 16; j++)
            {
                int q0 = j | (int)(((HighBits >> j) & 1) << 4);
                int q1 = (15 - j) | (int)(((HighBits >> (j + 16)) & 1) << 4);
                Assert.Equal((q0 * 0.5f) + 1, y[j]);
                Assert.Equal((q1 * 0.5f) + 1, y[j + 16]);
            }
        }
    }

    [Fact]
    public void RoundTrip_ErrorIsWithinHalfAStep()
    {
        var rng = new Random(44);
        var x = TestData.Floats(rng, 32 * 64, 3);
        var row = new byte[QuantTraits.RowBytes(GgmlType.Q5_1, x.Length)];
        Quantize.Row(GgmlType.Q5_1, x, row);
        var y = new float[x.Length];
        Dequantize.Row(GgmlType.Q5_1, row, y);
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

            double d = (max - min) / 31.0;
            double bound = (d / 2) + ((Math.Abs(min) + (31 * d)) / 2048.0);
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
