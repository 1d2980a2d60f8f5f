using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ4_0Tests
{
    [Fact]
    public void HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 0.5 (fp16 0x3800, little-endian), qs[j] = j | (15 - j) << 4.
        var block = new byte[18];
        block[0] = 0x00;
        block[1] = 0x38;
        for (int j = 0; j < 16; j++)
        {
            block[2 + j] = (byte)(j | ((15 - j) << 4));
        }

        foreach (var width in TestData.Widths())
        {
            var y = new float[32];
            Dequantize.Row(GgmlType.Q4_0, block, y, width);
            Assert.Equal(-4f, y[0]);    // (0 - 8) * 0.5
            Assert.Equal(3.5f, y[15]);  // (15 - 8) * 0.5
            Assert.Equal(3.5f, y[16]);  // high nibble of qs[0] = 15
            Assert.Equal(-4f, y[31]);   // high nibble of qs[15] = 0
            for (int j = 0; j < 16; j++)
            {
                Assert.Equal((j - 8) * 0.5f, y[j]);
                Assert.Equal((7 - j) * 0.5f, y[j + 16]);
            }
        }
    }

    [Fact]
    public void Quantize_FollowsGgmlReference()
    {
        var x = new float[32];
        float[] head = [-8f, 8f, 7f, 0f, 0.5f, -0.5f, 7.9f, 3.2f, -3.7f];
        head.CopyTo(x, 0);
        x[16] = -1f;
        x[31] = 2.5f;

        var block = new byte[18];
        Quantize.Row(GgmlType.Q4_0, x, block);

        // The first element of largest magnitude is -8, so d = -8 / -8 = 1 (fp16 0x3C00) and
        // q = min(15, trunc(x + 8.5)).
        Assert.Equal(0x00, block[0]);
        Assert.Equal(0x3C, block[1]);
        int[] low = [0, 15, 15, 8, 9, 8, 15, 11, 4, 8, 8, 8, 8, 8, 8, 8];
        int[] high = [7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 11];
        for (int j = 0; j < 16; j++)
        {
            Assert.Equal((byte)(low[j] | (high[j] << 4)), block[2 + j]);
        }
    }

    [Fact]
    public void Quantize_ZeroBlock_IsAllEights()
    {
        var block = new byte[18];
        Quantize.Row(GgmlType.Q4_0, new float[32], block);
        // d = 0 / -8 is negative zero, stored as fp16 0x8000 (as ggml stores it).
        Assert.Equal(0x00, block[0]);
        Assert.Equal(0x80, block[1]);
        Assert.All(block[2..], b => Assert.Equal(0x88, b));
    }

    [Fact]
    public void RoundTrip_ErrorIsWithinOneStep()
    {
        var rng = new Random(40);
        var x = TestData.Floats(rng, 32 * 64, 3);
        var row = new byte[QuantTraits.RowBytes(GgmlType.Q4_0, x.Length)];
        Quantize.Row(GgmlType.Q4_0, x, row);
        var y = new float[x.Length];
        Dequantize.Row(GgmlType.Q4_0, row, y);
        for (int b = 0; b < 64; b++)
        {
            var xb = x.AsSpan(b * 32, 32);
            float amax = 0;
            foreach (float v in xb)
            {
                amax = Math.Max(amax, Math.Abs(v));
            }

            // Rounding costs half a step (amax / 16); the clamp at q = 15 a full step; fp16 d ≤ 8·d·2^-11.
            double bound = (amax / 8.0) + (amax / 1024.0);
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
