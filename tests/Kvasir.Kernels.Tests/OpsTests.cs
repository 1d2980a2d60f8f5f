namespace Kvasir.Kernels.Tests;

/// <summary>Every vector path of <see cref="Ops"/> against scalar formulas, lengths 0..257, unaligned starts.</summary>
public class OpsTests
{
    private const int MaxLength = 257;
    private static readonly int[] Offsets = [0, 1, 3];

    public static TheoryData<int> Widths() => TestData.WidthData();

    [Theory]
    [MemberData(nameof(Widths))]
    public void Dot_MatchesDoubleSum(int width)
    {
        var rng = new Random(1);
        for (int n = 0; n <= MaxLength; n++)
        {
            foreach (int offset in Offsets)
            {
                var a = TestData.AtOffset(TestData.Floats(rng, n), offset);
                var b = TestData.AtOffset(TestData.Floats(rng, n), offset + 1);
                var (expected, magnitude) = TestData.ExactDot(a, b);
                float actual = Ops.Dot(a, b, (SimdWidth)width);
                TestData.AssertClose(expected, actual, Tolerance.F32Dot, magnitude, $"n={n} offset={offset}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void AddMulScale_AreExactAndAllowAliasing(int width)
    {
        var rng = new Random(2);
        var w = (SimdWidth)width;
        for (int n = 0; n <= MaxLength; n++)
        {
            foreach (int offset in Offsets)
            {
                var a = TestData.Floats(rng, n);
                var b = TestData.Floats(rng, n);
                var dst = TestData.AtOffset(new float[n], offset);
                Ops.Add(TestData.AtOffset(a, offset), b, dst, w);
                Assert.Equal(a.Zip(b, (x, y) => x + y), dst.ToArray());

                Ops.Mul(a, TestData.AtOffset(b, offset), dst, w);
                Assert.Equal(a.Zip(b, (x, y) => x * y), dst.ToArray());

                // In place: dst aliases the first, then the second input.
                var inPlace = TestData.AtOffset(a, offset);
                Ops.Add(inPlace, b, inPlace, w);
                Ops.Mul(b, inPlace, inPlace, w);
                Ops.Scale(inPlace, 0.75f, w);
                Assert.Equal(a.Zip(b, (x, y) => y * (x + y) * 0.75f), inPlace.ToArray());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SwiGlu_MatchesFormula(int width)
    {
        var rng = new Random(3);
        for (int n = 0; n <= MaxLength; n++)
        {
            foreach (int offset in Offsets)
            {
                var gate = TestData.Floats(rng, n, 12);
                var up = TestData.Floats(rng, n, 3);
                var dst = TestData.AtOffset(new float[n], offset);
                Ops.SwiGlu(TestData.AtOffset(gate, offset), up, dst, (SimdWidth)width);
                for (int i = 0; i < n; i++)
                {
                    double expected = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
                    TestData.AssertClose(expected, dst[i], Tolerance.VectorExp, Math.Abs(expected), $"n={n} i={i}");
                }
            }
        }
    }

    [Fact]
    public void SwiGlu_SaturatesWithoutNaN()
    {
        float[] gate = [-200, -100, -88, 0, 88, 100, 200, -200, -100, -88, 0, 88, 100, 200, 1, 2];
        float[] up = new float[gate.Length];
        Array.Fill(up, 2f);
        var dst = new float[gate.Length];
        foreach (var width in TestData.Widths())
        {
            Ops.SwiGlu(gate, up, dst, width);
            for (int i = 0; i < gate.Length; i++)
            {
                float expected = gate[i] <= -88 ? 0 : gate[i] >= 88 ? 2 * gate[i] : (float)(gate[i] / (1 + Math.Exp(-gate[i])) * 2);
                if (!(Math.Abs(dst[i] - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected))))
                {
                    Assert.Fail($"{width} gate={gate[i]} got {dst[i]}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void RmsNorm_MatchesFormula_AndAllowsAliasing(int width)
    {
        var rng = new Random(4);
        for (int n = 1; n <= MaxLength; n++)
        {
            foreach (int offset in Offsets)
            {
                var x = TestData.Floats(rng, n, 5);
                var weight = TestData.Floats(rng, n, 2);
                double meanSquare = x.Sum(v => (double)v * v) / n;
                double inv = 1 / Math.Sqrt(meanSquare + 1e-5);
                var y = TestData.AtOffset(x, offset); // y aliases x
                Ops.RmsNorm(y, weight, y, 1e-5f, (SimdWidth)width);
                for (int i = 0; i < n; i++)
                {
                    double expected = x[i] * inv * weight[i];
                    TestData.AssertClose(expected, y[i], Tolerance.RmsNorm, Math.Abs(expected), $"n={n} i={i}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Softmax_MatchesFormula(int width)
    {
        var rng = new Random(5);
        for (int n = 0; n <= MaxLength; n++)
        {
            foreach (int offset in Offsets)
            {
                // Large logits: without the max subtraction exp would overflow.
                var x = TestData.Floats(rng, n, 20);
                for (int i = 0; i < n; i++)
                {
                    x[i] += 500;
                }

                var p = TestData.AtOffset(x, offset);
                Ops.Softmax(p, (SimdWidth)width);
                double max = n == 0 ? 0 : x.Max();
                double sum = x.Sum(v => Math.Exp(v - max));
                double total = 0;
                for (int i = 0; i < n; i++)
                {
                    double expected = Math.Exp(x[i] - max) / sum;
                    if (!(Math.Abs(p[i] - expected) <= Tolerance.Softmax))
                    {
                        Assert.Fail($"n={n} i={i}: {p[i]} vs {expected}");
                    }
                    total += p[i];
                }

                if (n > 0)
                {
                    Assert.Equal(1.0, total, 5);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void ArgMax_FindsFirstMaximum(int width)
    {
        var rng = new Random(6);
        for (int n = 1; n <= MaxLength; n++)
        {
            foreach (int offset in Offsets)
            {
                var x = TestData.Floats(rng, n);
                int expected = rng.Next(n);
                x[expected] = 2;
                if (expected + 1 < n)
                {
                    x[rng.Next(expected + 1, n)] = 2; // a later tie must not win
                }

                Assert.Equal(expected, Ops.ArgMax(TestData.AtOffset(x, offset), (SimdWidth)width));
            }
        }
    }

    [Fact]
    public void ArgMax_HandlesInfinitiesAndEmpty()
    {
        float[] x = [float.NegativeInfinity, float.NegativeInfinity, -1e30f, float.NegativeInfinity];
        Assert.Equal(2, Ops.ArgMax(x));
        x[3] = float.PositiveInfinity;
        Assert.Equal(3, Ops.ArgMax(x));
        Assert.Throws<ArgumentException>(() => Ops.ArgMax([]));
    }

    [Fact]
    public void LengthMismatches_Throw()
    {
        Assert.Throws<ArgumentException>(() => Ops.Add(new float[3], new float[4], new float[3]));
        Assert.Throws<ArgumentException>(() => Ops.Mul(new float[3], new float[3], new float[2]));
        Assert.Throws<ArgumentException>(() => Ops.SwiGlu(new float[3], new float[2], new float[3]));
        Assert.Throws<ArgumentException>(() => Ops.RmsNorm(new float[3], new float[2], new float[3], 1e-5f));
        Assert.Throws<ArgumentException>(() => Ops.Dot(new float[3], new float[2]));
    }

    [Fact]
    public void PublicEntryPoints_UseTheBestPath()
    {
        var rng = new Random(7);
        var a = TestData.Floats(rng, 100);
        var b = TestData.Floats(rng, 100);
        Assert.Equal(Ops.Dot(a, b, Simd.Best), Ops.Dot(a, b));
        var y1 = new float[100];
        var y2 = new float[100];
        Ops.RmsNorm(a, b, y1, 1e-6f);
        Ops.RmsNorm(a, b, y2, 1e-6f, Simd.Best);
        Assert.Equal(y1, y2);
    }
}
