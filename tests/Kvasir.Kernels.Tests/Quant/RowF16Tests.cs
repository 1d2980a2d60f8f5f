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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public unsafe void WidenScaledDown_EveryHalf_IsItsValueTimesTwoToTheMinus112_Exactly(bool wide)
    {
        var width = wide ? SimdWidth.V512 : SimdWidth.V256;
        // All 65536 halves scrambled (V512 runs in software without AVX-512; V256 takes the scalar loop): subnormal
        // halves become subnormal floats, infinities and NaN survive through the exact widening. 65531 halves leave a
        // tail of 27 past the 32-half vectors.
        var halves = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        new Random(6).Shuffle(halves);
        var finite = halves.Where(h => (h & 0x7C00) != 0x7C00).ToArray();
        double scale = Math.Pow(2, -112);
        foreach (int count in new[] { 65536, 65531 })
        {
            var y = new float[count];
            fixed (ushort* src = halves)
            fixed (float* dst = y)
            {
                Assert.False(RowF16.TryWidenScaledDown(src, dst, count, width));
                RowF16.WidenScaledDown(src, dst, count, width);
            }

            for (int i = 0; i < count; i++)
            {
                float expected = (float)((double)(float)BitConverter.UInt16BitsToHalf(halves[i]) * scale);
                Assert.True(
                    BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(expected) && float.IsNaN(y[i])),
                    $"half 0x{halves[i]:X4} at {i}: {y[i]} != {expected}");
            }
        }

        var z = new float[finite.Length];
        fixed (ushort* src = finite)
        fixed (float* dst = z)
        {
            Assert.True(RowF16.TryWidenScaledDown(src, dst, finite.Length, width));
        }

        for (int i = 0; i < finite.Length; i++)
        {
            float expected = (float)((double)(float)BitConverter.UInt16BitsToHalf(finite[i]) * scale);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(z[i]));
        }
    }

    [Fact]
    public unsafe void TryWidenFinite_EveryFiniteHalf_IsExact_AndRefusesInfinityAndNaN()
    {
        // Every finite half (both signs, zeros and subnormals included), in a scrambled order so that each 16-half
        // group mixes magnitudes.
        var finite = Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(h => (h & 0x7C00) != 0x7C00).ToArray();
        new Random(5).Shuffle(finite);
        int count = finite.Length / 16 * 16;
        var y = new float[count];
        fixed (ushort* src = finite)
        fixed (float* dst = y)
        {
            if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                Assert.False(RowF16.TryWidenFinite(src, dst, 16));
                return;
            }

            Assert.True(RowF16.TryWidenFinite(src, dst, count));
            for (int i = 0; i < count; i++)
            {
                float expected = (float)BitConverter.UInt16BitsToHalf(finite[i]);
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(y[i]), $"half 0x{finite[i]:X4} at {i}: {y[i]}");
            }

            // One infinity or NaN anywhere makes it refuse.
            foreach (ushort bad in new ushort[] { 0x7C00, 0xFC00, 0x7E00, 0xFFFF, 0x7C01 })
            {
                foreach (int at in new[] { 0, 7, 8, 15, 16 * 9, count - 1 })
                {
                    ushort saved = finite[at];
                    finite[at] = bad;
                    Assert.False(RowF16.TryWidenFinite(src, dst, count), $"0x{bad:X4} at {at}");
                    finite[at] = saved;
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

    [Fact]
    public unsafe void DotPrescaled_IsBitIdenticalToDot_ForEveryLengthAndOffset()
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            return; // the prescaled path is AVX2 only; Dot is tested on its own
        }

        var rng = new Random(53);
        for (int n = 0; n <= 257; n++)
        {
            foreach (int offset in new[] { 0, 1, 3 })
            {
                // Every bit pattern but infinities and NaNs: subnormals, zeros of both signs, the largest finite.
                var halves = new ushort[n + offset];
                for (int i = 0; i < halves.Length; i++)
                {
                    ushort h;
                    do
                    {
                        h = (ushort)rng.Next(65536);
                    }
                    while ((h & 0x7C00) == 0x7C00);
                    halves[i] = h;
                }

                var x = TestData.Floats(rng, n + offset, 3);
                var scaled = new float[n + offset];
                Assert.True(RowF16.TryPrescale(x.AsSpan(offset), scaled.AsSpan(offset)));
                float expected = RowF16.Dot(MemoryMarshal.AsBytes(halves.AsSpan(offset)), x.AsSpan(offset), SimdWidth.V256);
                var x2 = TestData.Floats(rng, n + offset, 2);
                var scaled2 = new float[n + offset];
                Assert.True(RowF16.TryPrescale(x2.AsSpan(offset), scaled2.AsSpan(offset)));
                float expected2 = RowF16.Dot(MemoryMarshal.AsBytes(halves.AsSpan(offset)), x2.AsSpan(offset), SimdWidth.V256);
                fixed (ushort* w = halves)
                fixed (float* xs = scaled, xp = x, xs2 = scaled2, xp2 = x2)
                {
                    // V512 runs the Vector512 loop (in software without AVX-512): the same bits too.
                    foreach (var width in new[] { SimdWidth.V256, SimdWidth.V512 })
                    {
                        float actual = RowF16.DotPrescaled(w + offset, xs + offset, xp + offset, n, width);
                        Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(actual));

                        // Two tokens at once: each gets the bits it gets alone.
                        RowF16.DotPrescaled2(w + offset, xs + offset, xp + offset, xs2 + offset, xp2 + offset, n, width, out float pair0, out float pair1);
                        Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(pair0));
                        Assert.Equal(BitConverter.SingleToInt32Bits(expected2), BitConverter.SingleToInt32Bits(pair1));
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(0x7C00)] // +infinity
    [InlineData(0xFC00)] // -infinity
    [InlineData(0x7E00)] // NaN
    public unsafe void DotPrescaled_RowWithInfinityOrNaN_GivesWhatDotGives(int special)
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            return;
        }

        foreach (int n in new[] { 8, 16, 40, 72 })
        {
            var halves = new ushort[n];
            var x = new float[n];
            for (int i = 0; i < n; i++)
            {
                halves[i] = BitConverter.HalfToUInt16Bits((Half)0.5f);
                x[i] = 1;
            }

            halves[n - 3] = (ushort)special;
            var scaled = new float[n];
            Assert.True(RowF16.TryPrescale(x, scaled));
            float expected = RowF16.Dot(MemoryMarshal.AsBytes(halves.AsSpan()), x, SimdWidth.V256);
            fixed (ushort* w = halves)
            fixed (float* xs = scaled, xp = x)
            {
                foreach (var width in new[] { SimdWidth.V256, SimdWidth.V512 })
                {
                    float actual = RowF16.DotPrescaled(w, xs, xp, n, width);
                    Assert.True(float.IsNaN(expected) ? float.IsNaN(actual) : expected == actual, $"n {n} {width}: expected {expected}, got {actual}");
                    RowF16.DotPrescaled2(w, xs, xp, xs, xp, n, width, out float pair0, out float pair1);
                    Assert.True(float.IsNaN(expected) ? float.IsNaN(pair0) && float.IsNaN(pair1) : expected == pair0 && expected == pair1, $"pair, n {n} {width}");
                }
            }
        }
    }

    [Fact]
    public void TryPrescale_RefusesValuesThatWouldOverflow()
    {
        var scaled = new float[9];
        Assert.True(RowF16.TryPrescale([1, -65535.99f, 0, 0, 0, 0, 0, 0, 2], scaled));
        Assert.Equal(2 * RowF16.PrescaleFactor, scaled[8]);
        Assert.False(RowF16.TryPrescale([1, 2, 3, 4, 65536, 0, 0, 0, 0], scaled));
        Assert.False(RowF16.TryPrescale([1, 2, 3, 4, 5, 6, 7, 8, -70000], scaled));
        Assert.False(RowF16.TryPrescale([float.NaN], scaled.AsSpan(0, 1)));
        Assert.False(RowF16.TryPrescale([float.PositiveInfinity, 0, 0, 0], scaled.AsSpan(0, 4)));
    }

    [Fact]
    public void MatMul_F16Decode_IsBitIdenticalToTheRowDot_AndTakesLargeTokensToo()
    {
        var rng = new Random(59);
        const int rows = 24, cols = 72, n = 3;
        var w = new byte[rows * cols * 2];
        RowF16.QuantizeReference(TestData.Floats(rng, rows * cols), w);
        var x = TestData.Floats(rng, n * cols, 2);
        x[cols + 5] = 1e6f; // token 1 cannot be prescaled: the whole product takes the plain path
        foreach (var xs in new[] { x, TestData.Floats(rng, n * cols, 2) })
        {
            using var pool = new KernelThreadPool(2);
            foreach (var width in new[] { Simd.Best, SimdWidth.V512 })
            {
                var y = new float[n * rows];
                MatMul.Compute(GgmlType.F16, w, rows, cols, xs, y, n, pool, MatMulActivations.Int8, width);
                for (int t = 0; t < n; t++)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        float expected = RowF16.Dot(w.AsSpan(r * cols * 2, cols * 2), xs.AsSpan(t * cols, cols), Simd.Best);
                        Assert.Equal(expected, y[(t * rows) + r]);
                    }
                }
            }
        }
    }
}
