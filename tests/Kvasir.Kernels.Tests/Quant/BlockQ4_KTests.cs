using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ4_KTests
{
    /// <summary>Sub-block scales and mins of the hand-built block.</summary>
    internal static readonly int[] Scales = [1, 2, 3, 4, 5, 6, 7, 63];

    internal static readonly int[] Mins = [0, 1, 2, 3, 10, 20, 30, 40];

    /// <summary>
    /// The 12 packed bytes for <see cref="Scales"/> and <see cref="Mins"/>, packed by hand:
    /// bytes 0..3 = sc[0..3] | (sc[4..7] >> 4) &lt;&lt; 6; bytes 4..7 = m[0..3] | (m[4..7] >> 4) &lt;&lt; 6;
    /// bytes 8..11 = (sc[4..7] &amp; 15) | (m[4..7] &amp; 15) &lt;&lt; 4.
    /// </summary>
    internal static readonly byte[] PackedScales = [0x01, 0x02, 0x03, 0xC4, 0x00, 0x41, 0x42, 0x83, 0xA5, 0x46, 0xE7, 0x8F];

    [Fact]
    public void HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 1 (0x3C00), dmin = 0.5 (0x3800); qs[32c + l] = (l % 16) | (15 - l % 16) << 4.
        var block = new byte[144];
        block[1] = 0x3C;
        block[3] = 0x38;
        PackedScales.CopyTo(block, 4);
        for (int c = 0; c < 4; c++)
        {
            for (int l = 0; l < 32; l++)
            {
                block[16 + (32 * c) + l] = (byte)((l % 16) | ((15 - (l % 16)) << 4));
            }
        }

        foreach (var width in TestData.Widths())
        {
            var y = new float[256];
            Dequantize.Row(GgmlType.Q4_K, block, y, width);
            Assert.Equal(0f, y[0]);            // 1·1·0 − 0.5·0
            Assert.Equal(1f, y[1]);            // 1·1·1
            Assert.Equal(29.5f, y[32]);        // sub-block 1: 1·2·15 − 0.5·1
            Assert.Equal(14f, y[64 + 5]);      // sub-block 2: 1·3·5 − 0.5·2
            Assert.Equal(-20f, y[255]);        // sub-block 7: 1·63·0 − 0.5·40
            Assert.Equal(925f, y[224]);        // sub-block 7: 1·63·15 − 0.5·40
            for (int i = 0; i < 256; i++)
            {
                int s = i / 32;
                int l = i % 32;
                int q = (i % 64) < 32 ? l % 16 : 15 - (l % 16);
                Assert.Equal((1f * Scales[s] * q) - (0.5f * Mins[s]), y[i]);
            }
        }
    }

    [Fact]
    public void Dot_OfHandBuiltBlockWithOnes_IsTheSumOfItsValues()
    {
        var rng = new Random(45);
        var block = TestData.RandomRow(GgmlType.Q4_K, 256, rng);
        var values = TestData.DequantizeReference(GgmlType.Q4_K, block, 256);
        var ones = new float[256];
        Array.Fill(ones, 1f);
        double expected = values.Sum(v => (double)v);
        double magnitude = values.Sum(v => (double)Math.Abs(v));
        TestData.AssertClose(expected, MatMul.Dot(GgmlType.Q4_K, block, ones), Tolerance.Q4_KDot, magnitude, "Σ values");
    }
}
