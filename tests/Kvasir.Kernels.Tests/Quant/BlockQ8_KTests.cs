using System.Runtime.InteropServices;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class BlockQ8_KTests
{
    [Fact]
    public void Quantize_WritesScaleValuesAndBlockSums()
    {
        var rng = new Random(46);
        var x = TestData.Floats(rng, 512, 4);
        x[5] = 9; // the largest magnitude of block 0, positive: it maps to -127 with a negative d (ggml's convention)
        var row = new byte[QuantTraits.RowBytes(GgmlType.Q8_K, x.Length)];
        Quantize.Row(GgmlType.Q8_K, x, row);

        var block = row.AsSpan(0, 292);
        float d = MemoryMarshal.Read<float>(block);
        var qs = MemoryMarshal.Cast<byte, sbyte>(block.Slice(4, 256));
        var sums = MemoryMarshal.Cast<byte, short>(block.Slice(260, 32));
        Assert.Equal(-127, qs[5]);
        Assert.Equal(1 / (-127f / 9), d);
        for (int k = 0; k < 16; k++)
        {
            int sum = 0;
            for (int j = 0; j < 16; j++)
            {
                sum += qs[(16 * k) + j];
            }

            Assert.Equal(sum, sums[k]);
        }

        var y = new float[x.Length];
        Dequantize.Row(GgmlType.Q8_K, row, y);
        for (int i = 0; i < x.Length; i++)
        {
            if (!(Math.Abs(x[i] - y[i]) <= (9.0 * 0.5 / 127) + 1e-5))
            {
                Assert.Fail($"element {i}");
            }
        }
    }

    [Fact]
    public void Quantize_ZeroBlock_IsAllZeroBytes()
    {
        var row = new byte[292];
        row.AsSpan().Fill(0xFF);
        Quantize.Row(GgmlType.Q8_K, new float[256], row);
        Assert.All(row, b => Assert.Equal(0, b));
    }
}
