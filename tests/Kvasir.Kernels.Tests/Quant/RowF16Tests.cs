using System.Runtime.InteropServices;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

public class RowF16Tests
{
    [Fact]
    public void Widening_EveryHalf_IsExact()
    {
        var halves = new ushort[65536];
        for (int i = 0; i < halves.Length; i++)
        {
            halves[i] = (ushort)i;
        }

        var bytes = MemoryMarshal.AsBytes(halves.AsSpan());
        foreach (var width in TestData.Widths())
        {
            var y = new float[65536];
            RowF16.Dequantize(bytes, y, width);
            for (int i = 0; i < y.Length; i++)
            {
                float expected = (float)BitConverter.UInt16BitsToHalf((ushort)i);
                if (float.IsNaN(expected))
                {
                    if (!float.IsNaN(y[i]))
                    {
                        Assert.Fail($"{width} half 0x{i:X4}");
                    }
                }
                else
                {
                    if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(y[i]))
                    {
                        Assert.Fail($"{width} half 0x{i:X4}: {y[i]}");
                    }
                }
            }
        }
    }

    [Fact]
    public void BlockScaleReader_EveryHalf_IsExact()
    {
        var bytes = new byte[2];
        for (int i = 0; i < 65536; i++)
        {
            bytes[0] = (byte)i;
            bytes[1] = (byte)(i >> 8);
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            float actual = QuantSimd.ReadHalf(ref bytes[0]);
            bool same = float.IsNaN(expected) ? float.IsNaN(actual) : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual);
            if (!same)
            {
                Assert.Fail($"half 0x{i:X4}: expected {expected}, got {actual}");
            }
        }
    }

    [Fact]
    public void Narrowing_RoundsToNearestEven_LikeHalf()
    {
        // Every half value, the midpoints to its neighbour, and one float ulp either side of each midpoint;
        // then overflow, underflow, infinities and zeros.
        var values = new List<float>();
        for (int i = 0; i < 0x7C00; i++)
        {
            float a = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            float b = (float)BitConverter.UInt16BitsToHalf((ushort)(i + 1));
            float mid = (float)(((double)a + b) / 2);
            foreach (float v in new[] { a, mid, MathF.BitDecrement(mid), MathF.BitIncrement(mid) })
            {
                values.Add(v);
                values.Add(-v);
            }
        }

        values.AddRange([65504f, 65519.99f, 65520f, 65536f, 1e9f, float.MaxValue, float.PositiveInfinity, float.NegativeInfinity,
            float.Epsilon, 1e-8f, 2.98e-8f, 2.9802322e-8f, 2.99e-8f, 0f, -0f, -65520f]);
        var src = values.ToArray();
        var expected = new ushort[src.Length];
        for (int i = 0; i < src.Length; i++)
        {
            expected[i] = BitConverter.HalfToUInt16Bits((Half)src[i]);
        }

        foreach (var width in TestData.Widths())
        {
            var dst = new ushort[src.Length];
            RowF16.Quantize(src, MemoryMarshal.AsBytes(dst.AsSpan()), width);
            for (int i = 0; i < src.Length; i++)
            {
                if (expected[i] != dst[i])
                {
                    Assert.Fail($"{width} {src[i]:R}: expected 0x{expected[i]:X4}, got 0x{dst[i]:X4}");
                }
            }
        }
    }

    [Fact]
    public void Narrowing_KeepsNaN()
    {
        float[] src = [float.NaN, -float.NaN, BitConverter.Int32BitsToSingle(0x7F800001), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
        foreach (var width in TestData.Widths())
        {
            var dst = new ushort[src.Length];
            RowF16.Quantize(src, MemoryMarshal.AsBytes(dst.AsSpan()), width);
            for (int i = 0; i < 3; i++)
            {
                if (!Half.IsNaN(BitConverter.UInt16BitsToHalf(dst[i])))
                {
                    Assert.Fail($"{width} element {i}");
                }
            }
        }
    }

    [Fact]
    public void RoundTrip_IsWithinHalfAnUlp()
    {
        var rng = new Random(47);
        var x = TestData.Floats(rng, 1000, 100);
        var row = new byte[2000];
        Quantize.Row(GgmlType.F16, x, row);
        var y = new float[1000];
        Dequantize.Row(GgmlType.F16, row, y);
        for (int i = 0; i < x.Length; i++)
        {
            if (!(Math.Abs(x[i] - y[i]) <= (Math.Abs(x[i]) * Tolerance.F16RoundTripRelative) + 3e-8))
            {
                Assert.Fail($"element {i}");
            }
        }
    }
}
