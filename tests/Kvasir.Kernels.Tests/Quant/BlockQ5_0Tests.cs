using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ5_0Tests
{
    private const uint HighBits = 0xA5C3_0F81;

    [Fact]
    public void HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 0.25 (0x3400); qh = 0xA5C30F81 (bit j is bit 4 of element j); qs[j] = j | (15 - j) << 4.
        var block = new byte[22];
        block[1] = 0x34;
        block[2] = 0x81;
        block[3] = 0x0F;
        block[4] = 0xC3;
        block[5] = 0xA5;
        for (int j = 0; j < 16; j++)
        {
            block[6 + j] = (byte)(j | ((15 - j) << 4));
        }

        foreach (var width in TestData.Widths())
        {
            var y = new float[32];
            Dequantize.Row(GgmlType.Q5_0, block, y, width);
            Assert.Equal((16 - 16) * 0.25f, y[0]);      // q = 0 | 16
            Assert.Equal((1 - 16) * 0.25f, y[1]);       // q = 1, bit 1 clear
            Assert.Equal(3.75f, y[16]);                 // q = 15 | 16 (bit 16 set)
            Assert.Equal(0f, y[31]);                    // q = 0 | 16 (high nibble of qs[15] is 0, bit 31 set)
            for (int j = 0; j < 16; j++)
            {
                int q0 = j | (int)(((HighBits >> j) & 1) << 4);
                int q1 = (15 - j) | (int)(((HighBits >> (j + 16)) & 1) << 4);
                Assert.Equal((q0 - 16) * 0.25f, y[j]);
                Assert.Equal((q1 - 16) * 0.25f, y[j + 16]);
            }
        }
    }

    [Fact]
    public void RoundTrip_ErrorIsWithinOneStep()
    {
        var rng = new Random(43);
        var x = TestData.Floats(rng, 32 * 64, 3);
        var row = new byte[QuantTraits.RowBytes(GgmlType.Q5_0, x.Length)];
        Quantize.Row(GgmlType.Q5_0, x, row);
        var y = new float[x.Length];
        Dequantize.Row(GgmlType.Q5_0, row, y);
        for (int b = 0; b < 64; b++)
        {
            float amax = 0;
            foreach (float v in x.AsSpan(b * 32, 32))
            {
                amax = Math.Max(amax, Math.Abs(v));
            }

            double bound = (amax / 16.0) + (amax / 1024.0);
            for (int j = 0; j < 32; j++)
            {
                if (!(Math.Abs(x[(b * 32) + j] - y[(b * 32) + j]) <= bound))
                {
                    Assert.Fail($"block {b} element {j}");
                }
            }
        }
    }
}
