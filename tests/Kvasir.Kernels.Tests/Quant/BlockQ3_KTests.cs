using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ3_KTests
{
    /// <summary>The signed 3-bit value (−4..3) planted at element i.</summary>
    private static int Q(int i) => (((i * 37) + 5) % 8) - 4;

    /// <summary>The 6-bit scale planted for sub-block s (0..63, the signed scale is this − 32).</summary>
    private static int Scale(int s) => ((s * 23) + 7) % 64;

    [Fact]
    public void HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 0.5 (fp16 0x3800 at offset 108). Element 128n + 32j + l: its low 2 bits at bits 2j of qs[32n + l]
        // (offset 32), its third bit (set when q ≥ 0, i.e. q + 4 ≥ 4) at bit 4n + j of hmask[l] (offset 0).
        // 6-bit scale s: low 4 bits in the low nibble of scales[s] (s < 8) or the high nibble of scales[s − 8],
        // top 2 bits at bits 2(s / 4) of scales[8 + s % 4] (offset 96).
        var block = BuildBlock();
        foreach (var width in TestData.Widths())
        {
            var y = new float[256];
            Dequantize.Row(GgmlType.Q3_K, block, y, width);
            Assert.Equal(0.5f * (Scale(0) - 32) * Q(0), y[0]);
            for (int i = 0; i < 256; i++)
            {
                Assert.Equal(0.5f * (Scale(i / 16) - 32) * Q(i), y[i]);
            }
        }
    }

    [Fact]
    public void HandBuiltBlock_IntegerDotIsExact()
    {
        // Activations: a Q8_K block with d = 1 (as a float) and qs[i] = (i % 255) − 127, so the expected dot is an
        // exact integer sum: Σ (sc − 32) · q · a.
        var block = BuildBlock();
        var activations = new byte[MatMul.Int8ActivationRowBytes(GgmlType.Q8_K, 256)];
        var x = new float[256];
        for (int i = 0; i < 256; i++)
        {
            x[i] = (i % 255) - 127;
        }

        MatMul.QuantizeInt8Activations(GgmlType.Q8_K, x, activations);
        long expected = 0;
        for (int i = 0; i < 256; i++)
        {
            expected += (long)(Scale(i / 16) - 32) * Q(i) * ((i % 255) - 127);
        }

        float da = BitConverter.ToSingle(activations, 0);
        Assert.Equal(1f, da);
        foreach (var width in TestData.Widths())
        {
            Assert.Equal(0.5f * expected, MatMul.DotInt8Unchecked(GgmlType.Q3_K, block, activations, 1, width));
        }
    }

    private static byte[] BuildBlock()
    {
        var block = new byte[110];
        for (int i = 0; i < 256; i++)
        {
            int n = i / 128, j = (i % 128) / 32, l = i % 32;
            int u = Q(i) + 4;
            block[32 + (32 * n) + l] |= (byte)((u & 3) << (2 * j));
            if (u >= 4)
            {
                block[l] |= (byte)(1 << ((4 * n) + j));
            }
        }

        for (int s = 0; s < 16; s++)
        {
            int sc = Scale(s);
            if (s < 8)
            {
                block[96 + s] |= (byte)(sc & 15);
            }
            else
            {
                block[96 + s - 8] |= (byte)((sc & 15) << 4);
            }

            block[96 + 8 + (s % 4)] |= (byte)((sc >> 4) << (2 * (s / 4)));
        }

        block[108] = 0x00;
        block[109] = 0x38;
        return block;
    }
}
