using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

/// <summary>IQ4_NL and IQ4_XS: hand-built blocks against ggml's layout and grid.</summary>
public class BlockIQ4Tests
{
    /// <summary>ggml's kvalues_iq4nl, written out here so that a wrong table in the kernels fails.</summary>
    private static readonly int[] Grid = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <summary>The 4-bit index planted at element i.</summary>
    private static int Q(int i) => ((i * 7) + 3) % 16;

    /// <summary>The 6-bit IQ4_XS scale planted for sub-block s (the signed scale is this − 32).</summary>
    private static int Scale(int s) => ((s * 23) + 5) % 64;

    [Fact]
    public void IQ4_NL_HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 0.5 (fp16 0x3800 at offset 0); element j: low nibble of qs[j] (offset 2), element j + 16: its high nibble.
        var block = new byte[18];
        block[0] = 0x00;
        block[1] = 0x38;
        for (int j = 0; j < 16; j++)
        {
            block[2 + j] = (byte)(Q(j) | (Q(j + 16) << 4));
        }

        foreach (var width in TestData.Widths())
        {
            var y = new float[32];
            Dequantize.Row(GgmlType.IQ4_NL, block, y, width);
            for (int i = 0; i < 32; i++)
            {
                Assert.Equal(0.5f * Grid[Q(i)], y[i]);
            }
        }

        // Integer dot with activations a_i = (i % 255) − 127 quantized to Q8_0 with d = 1 (the block's |max| is 127).
        var x = Activations(32);
        var activations = new byte[MatMul.Int8ActivationRowBytes(GgmlType.Q8_0, 32)];
        MatMul.QuantizeInt8Activations(GgmlType.Q8_0, x, activations);
        long expected = 0;
        for (int i = 0; i < 32; i++)
        {
            expected += (long)Grid[Q(i)] * (int)x[i];
        }

        foreach (var width in TestData.Widths())
        {
            Assert.Equal(0.5f * expected, MatMul.DotInt8Unchecked(GgmlType.IQ4_NL, block, activations, 1, width));
        }
    }

    [Fact]
    public void IQ4_XS_HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 0.5 (offset 0); 6-bit scale of sub-block s: low 4 bits at bits 4s of the uint32 at offset 4 (scales_l),
        // top 2 bits at bits 2s of the uint16 at offset 2 (scales_h); sub-block s: element 32s + j is the low nibble of
        // qs[16s + j] (offset 8), 32s + 16 + j its high nibble.
        var block = new byte[136];
        block[0] = 0x00;
        block[1] = 0x38;
        uint low = 0, high = 0;
        for (int s = 0; s < 8; s++)
        {
            low |= (uint)(Scale(s) & 15) << (4 * s);
            high |= (uint)(Scale(s) >> 4) << (2 * s);
        }

        BitConverter.GetBytes((ushort)high).CopyTo(block, 2);
        BitConverter.GetBytes(low).CopyTo(block, 4);
        for (int s = 0; s < 8; s++)
        {
            for (int j = 0; j < 16; j++)
            {
                block[8 + (16 * s) + j] = (byte)(Q((32 * s) + j) | (Q((32 * s) + 16 + j) << 4));
            }
        }

        foreach (var width in TestData.Widths())
        {
            var y = new float[256];
            Dequantize.Row(GgmlType.IQ4_XS, block, y, width);
            for (int i = 0; i < 256; i++)
            {
                Assert.Equal(0.5f * (Scale(i / 32) - 32) * Grid[Q(i)], y[i]);
            }
        }

        var x = Activations(256);
        var activations = new byte[MatMul.Int8ActivationRowBytes(GgmlType.Q8_K, 256)];
        MatMul.QuantizeInt8Activations(GgmlType.Q8_K, x, activations);
        long expected = 0;
        for (int i = 0; i < 256; i++)
        {
            expected += (long)(Scale(i / 32) - 32) * Grid[Q(i)] * (int)x[i];
        }

        foreach (var width in TestData.Widths())
        {
            Assert.Equal(0.5f * expected, MatMul.DotInt8Unchecked(GgmlType.IQ4_XS, block, activations, 1, width));
        }
    }

    /// <summary>a_i = (i % 255) − 127: integers whose quantization (scale amax / 127 = 1) is exact.</summary>
    private static float[] Activations(int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (i % 255) - 127;
        }

        return x;
    }
}
