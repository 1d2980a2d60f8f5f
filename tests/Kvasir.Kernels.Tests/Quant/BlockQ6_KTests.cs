using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ6_KTests
{
    private static int Q(int i) => ((i * 37) + 5) % 64;

    private static sbyte Scale(int s) => s == 15 ? sbyte.MinValue : (sbyte)(s - 8);

    [Fact]
    public void HandBuiltBlock_DequantizesToExactValues()
    {
        // d = 0.5 (fp16 0x3800 at offset 208), scales[s] = s - 8 (and -128 for s = 15), element i holds
        // q = (37i + 5) mod 64, packed by the documented layout: half h, l = 0..31, L = ql + 64h, H = qh + 32h:
        //   128h + l      → low nibble of L[l],       bits 0-1 of H[l]
        //   128h + l + 32 → low nibble of L[l + 32],  bits 2-3 of H[l]
        //   128h + l + 64 → high nibble of L[l],      bits 4-5 of H[l]
        //   128h + l + 96 → high nibble of L[l + 32], bits 6-7 of H[l]
        var block = new byte[210];
        for (int h = 0; h < 2; h++)
        {
            for (int l = 0; l < 32; l++)
            {
                int q1 = Q((128 * h) + l);
                int q2 = Q((128 * h) + l + 32);
                int q3 = Q((128 * h) + l + 64);
                int q4 = Q((128 * h) + l + 96);
                block[(64 * h) + l] = (byte)((q1 & 15) | ((q3 & 15) << 4));
                block[(64 * h) + l + 32] = (byte)((q2 & 15) | ((q4 & 15) << 4));
                block[128 + (32 * h) + l] = (byte)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }

        for (int s = 0; s < 16; s++)
        {
            block[192 + s] = (byte)Scale(s);
        }

        block[208] = 0x00;
        block[209] = 0x38;

        foreach (var width in TestData.Widths())
        {
            var y = new float[256];
            Dequantize.Row(GgmlType.Q6_K, block, y, width);
            Assert.Equal(108f, y[0]);       // 0.5 · -8 · (5 - 32)
            Assert.Equal(-25f, y[100]);     // 0.5 · -2 · (57 - 32)
            Assert.Equal(-1728f, y[254]);   // 0.5 · -128 · (59 - 32)
            Assert.Equal(0f, y[255]);       // q = 32
            for (int i = 0; i < 256; i++)
            {
                Assert.Equal(0.5f * Scale(i / 16) * (Q(i) - 32), y[i]);
            }
        }
    }
}
