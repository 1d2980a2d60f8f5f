using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ8_0Tests
{
    [Fact]
    public void HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 0.25 (fp16 0x3400), qs[j] = 8j - 128 (covers -128, the value ggml's quantizer never writes).
        var block = new byte[34];
        block[0] = 0x00;
        block[1] = 0x34;
        for (int j = 0; j < 32; j++)
        {
            block[2 + j] = (byte)(sbyte)((8 * j) - 128);
        }

        foreach (var width in TestData.Widths())
        {
            var y = new float[32];
            Dequantize.Row(GgmlType.Q8_0, block, y, width);
            Assert.Equal(-32f, y[0]);
            Assert.Equal(0f, y[16]);
            Assert.Equal(30f, y[31]);
            for (int j = 0; j < 32; j++)
            {
                Assert.Equal(((8 * j) - 128) * 0.25f, y[j]);
            }
        }
    }

    [Fact]
    public void Quantize_FollowsGgmlReference_RoundingHalfAwayFromZero()
    {
        var x = new float[32];
        float[] head = [127f, -127f, 0.5f, -0.5f, 2.5f, -2.5f, 1.49f, 100.5f];
        head.CopyTo(x, 0);
        var block = new byte[34];
        Quantize.Row(GgmlType.Q8_0, x, block);

        // d = 127 / 127 = 1 (fp16 0x3C00); q = roundf(x) with ties away from zero.
        Assert.Equal(0x00, block[0]);
        Assert.Equal(0x3C, block[1]);
        sbyte[] expected = [127, -127, 1, -1, 3, -3, 1, 101];
        for (int j = 0; j < 32; j++)
        {
            Assert.Equal(j < expected.Length ? expected[j] : 0, (sbyte)block[2 + j]);
        }
    }

    [Fact]
    public void RoundTrip_ErrorIsWithinHalfAStep()
    {
        var rng = new Random(41);
        var x = TestData.Floats(rng, 32 * 64, 3);
        var row = new byte[QuantTraits.RowBytes(GgmlType.Q8_0, x.Length)];
        Quantize.Row(GgmlType.Q8_0, x, row);
        var y = new float[x.Length];
        Dequantize.Row(GgmlType.Q8_0, row, y);
        for (int b = 0; b < 64; b++)
        {
            float amax = 0;
            foreach (float v in x.AsSpan(b * 32, 32))
            {
                amax = Math.Max(amax, Math.Abs(v));
            }

            double bound = (amax * 0.5 / 127) + (amax / 2048.0);
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
