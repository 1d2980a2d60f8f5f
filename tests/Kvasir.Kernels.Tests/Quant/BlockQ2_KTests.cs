using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ2_KTests
{
    /// <summary>The 2-bit value (0..3) planted at element i.</summary>
    private static int Q(int i) => ((i * 37) + 5) % 4;

    /// <summary>The 4-bit scale and min planted for sub-block s.</summary>
    private static (int Scale, int Min) ScaleMin(int s) => (((s * 7) + 3) % 16, ((s * 5) + 11) % 16);

    [Fact]
    public void HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 0.5 (fp16 0x3800 at offset 80), dmin = 0.25 (0x3400 at 82). Element 128n + 32j + l: bits 2j of
        // qs[32n + l] (offset 16); sub-block s = 8n + 2j + l / 16 has scale scales[s] & 15 and min scales[s] >> 4.
        var block = BuildBlock();
        foreach (var width in TestData.Widths())
        {
            var y = new float[256];
            Dequantize.Row(GgmlType.Q2_K, block, y, width);
            for (int i = 0; i < 256; i++)
            {
                var (sc, m) = ScaleMin(i / 16);
                Assert.Equal((0.5f * sc * Q(i)) - (0.25f * m), y[i]);
            }
        }
    }

    [Fact]
    public void HandBuiltBlock_IntegerDotIsExact()
    {
        // Activations with d = 1 and qs[i] = (i % 255) − 127: the dot is 0.5 · Σ sc·q·a − 0.25 · Σ m·a exactly.
        var block = BuildBlock();
        var activations = new byte[MatMul.Int8ActivationRowBytes(GgmlType.Q8_K, 256)];
        var x = new float[256];
        for (int i = 0; i < 256; i++)
        {
            x[i] = (i % 255) - 127;
        }

        MatMul.QuantizeInt8Activations(GgmlType.Q8_K, x, activations);
        long scaled = 0, mins = 0;
        for (int i = 0; i < 256; i++)
        {
            var (sc, m) = ScaleMin(i / 16);
            scaled += (long)sc * Q(i) * ((i % 255) - 127);
            mins += (long)m * ((i % 255) - 127);
        }

        Assert.Equal(1f, BitConverter.ToSingle(activations, 0));
        foreach (var width in TestData.Widths())
        {
            Assert.Equal((0.5f * scaled) - (0.25f * mins), MatMul.DotInt8Unchecked(GgmlType.Q2_K, block, activations, 1, width));
        }
    }

    private static byte[] BuildBlock()
    {
        var block = new byte[84];
        for (int s = 0; s < 16; s++)
        {
            var (sc, m) = ScaleMin(s);
            block[s] = (byte)(sc | (m << 4));
        }

        for (int i = 0; i < 256; i++)
        {
            int n = i / 128, j = (i % 128) / 32, l = i % 32;
            block[16 + (32 * n) + l] |= (byte)(Q(i) << (2 * j));
        }

        block[80] = 0x00;
        block[81] = 0x38;
        block[82] = 0x00;
        block[83] = 0x34;
        return block;
    }
}
