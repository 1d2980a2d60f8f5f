using System.Runtime.InteropServices;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class Q8_KActivationsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Quantize_WritesGgmlBlocksThenTheSumsOver32(int blocks)
    {
        var rng = new Random(7 + blocks);
        var x = TestData.Floats(rng, blocks * 256, 4);
        var row = new byte[Q8_KActivations.RowBytes(blocks)];
        Q8_KActivations.Quantize(x, row);
        Assert.Equal(blocks * (292 + 16), row.Length);
        Assert.Equal(row.Length, MatMul.Int8ActivationRowBytes(GgmlType.Q8_K, blocks * 256));

        var ggml = new byte[blocks * 292];
        Quantize.Row(GgmlType.Q8_K, x, ggml);
        Assert.Equal(ggml, row[..ggml.Length]);

        for (int b = 0; b < blocks; b++)
        {
            var qs = MemoryMarshal.Cast<byte, sbyte>(ggml.AsSpan((b * 292) + 4, 256));
            var pairs = MemoryMarshal.Cast<byte, short>(row.AsSpan((blocks * 292) + (b * 16), 16));
            Assert.Equal(pairs[0], Q8_KActivations.PairSums(ref row[0], blocks, b));
            for (int s = 0; s < 8; s++)
            {
                int sum = 0;
                for (int j = 0; j < 32; j++)
                {
                    sum += qs[(32 * s) + j];
                }

                Assert.Equal(sum, pairs[s]);
            }
        }
    }
}
