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

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q8_K)]
    public void VectorQuantizers_AreBitExactWithTheReference(GgmlType type)
    {
        var rng = new Random(49);
        int n = 4 * 256;
        var x = TestData.Floats(rng, n, 3);

        // Ties and near-ties: in a block whose largest element is 127 the scale is 1 (Q8_0) or -1 (Q8_K).
        x[0] = 127;
        float[] ties = [2.5f, -2.5f, 0.5f, -0.5f, 0.49999997f, 126.5f, -1.5f, 3.5000002f];
        ties.CopyTo(x, 1);
        x.AsSpan(256, 256).Clear(); // an all-zero block
        x[600] = -3;                // equal magnitudes: the first one sets the sign of the Q8_K scale
        x[601] = 3;

        var reference = new byte[QuantTraits.RowBytes(type, n)];
        var vector = new byte[reference.Length];
        Quantize.Row(type, x, reference, SimdWidth.Scalar);
        foreach (var width in TestData.Widths())
        {
            vector.AsSpan().Fill(0xCD);
            Quantize.Row(type, x, vector, width);
            Assert.Equal(reference, vector);
        }
    }
}
