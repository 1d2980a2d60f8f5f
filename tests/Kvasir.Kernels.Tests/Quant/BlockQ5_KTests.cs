using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ5_KTests
{
    private static int Q(int i) => ((i * 11) + 3) % 32;

    [Fact]
    public void HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 1 (0x3C00), dmin = 0.25 (0x3400), the scales of the q4_K test, element i holds q = (11i + 3) mod 32,
        // packed by the documented layout: chunk c, l = 0..31:
        //   element 64c + l      → low nibble of qs[32c + l], bit 2c of qh[l]
        //   element 64c + 32 + l → high nibble of qs[32c + l], bit 2c + 1 of qh[l]
        var block = new byte[176];
        block[1] = 0x3C;
        block[3] = 0x34;
        BlockQ4_KTests.PackedScales.CopyTo(block, 4);
        for (int c = 0; c < 4; c++)
        {
            for (int l = 0; l < 32; l++)
            {
                int q0 = Q((64 * c) + l);
                int q1 = Q((64 * c) + 32 + l);
                block[48 + (32 * c) + l] = (byte)((q0 & 15) | ((q1 & 15) << 4));
                block[16 + l] |= (byte)(((q0 >> 4) << (2 * c)) | ((q1 >> 4) << ((2 * c) + 1)));
            }
        }

        foreach (var width in TestData.Widths())
        {
            var y = new float[256];
            Dequantize.Row(GgmlType.Q5_K, block, y, width);
            Assert.Equal(3f, y[0]);                          // 1·1·3 − 0.25·0
            Assert.Equal((63f * Q(255)) - 10f, y[255]);      // 1·63·q − 0.25·40
            for (int i = 0; i < 256; i++)
            {
                int s = i / 32;
                Assert.Equal((1f * BlockQ4_KTests.Scales[s] * Q(i)) - (0.25f * BlockQ4_KTests.Mins[s]), y[i]);
            }
        }
    }
}
