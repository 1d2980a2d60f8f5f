namespace Kvasir.Kernels.Tests;

public class RopeTests
{
    [Fact]
    public void InvFrequencies_AreThePowersOfTheBase()
    {
        var inv = Rope.InvFrequencies(64, 10000f, []);
        Assert.Equal(32, inv.Length);
        Assert.Equal(1f, inv[0]);
        for (int i = 0; i < inv.Length; i++)
        {
            Assert.Equal((float)Math.Pow(10000, -2.0 * i / 64), inv[i]);
        }

        float[] factors = [.. Enumerable.Range(0, 32).Select(i => 1f + i)];
        var scaled = Rope.InvFrequencies(64, 500000f, factors);
        for (int i = 0; i < scaled.Length; i++)
        {
            Assert.Equal((float)(Math.Pow(500000, -2.0 * i / 64) / (1 + i)), scaled[i]);
        }
    }

    [Fact]
    public void InvFrequencies_ValidatesArguments()
    {
        Assert.Throws<ArgumentException>(() => Rope.InvFrequencies(63, 10000f, []));
        Assert.Throws<ArgumentException>(() => Rope.InvFrequencies(0, 10000f, []));
        Assert.Throws<ArgumentException>(() => Rope.InvFrequencies(64, 0f, []));
        Assert.Throws<ArgumentException>(() => Rope.InvFrequencies(64, 10000f, new float[31]));
    }

    [Theory]
    [InlineData(3, 64, 64)]
    [InlineData(2, 80, 32)]    // partial rotary: dims 32..79 stay as they are
    [InlineData(2, 768, 768)]  // more pairs than one stack pass holds
    [InlineData(1, 6, 2)]
    public void ApplyNormal_RotatesAdjacentPairs(int nHeads, int headDim, int rotDim)
    {
        var inv = Rope.InvFrequencies(rotDim, 10000f, []);
        var rng = new Random(80);
        foreach (int position in new[] { 0, 1, 7, 1000, 32767 })
        {
            var x = TestData.Floats(rng, (nHeads * headDim) + 2, 3);
            var y = (float[])x.Clone();
            Rope.ApplyNormal(y, nHeads, headDim, position, inv);
            for (int h = 0; h < nHeads; h++)
            {
                for (int i = 0; i < rotDim / 2; i++)
                {
                    int a = (h * headDim) + (2 * i);
                    ExpectRotated(x, y, a, a + 1, position * inv[i], position);
                }

                for (int d = rotDim; d < headDim; d++)
                {
                    Assert.Equal(x[(h * headDim) + d], y[(h * headDim) + d]);
                }
            }

            Assert.Equal(x[^2..], y[^2..]); // past nHeads · headDim: untouched
        }
    }

    [Theory]
    [InlineData(3, 64, 64)]
    [InlineData(2, 80, 32)]
    [InlineData(2, 768, 768)]
    [InlineData(4, 128, 128)]
    public void ApplyNeox_RotatesHalves(int nHeads, int headDim, int rotDim)
    {
        var inv = Rope.InvFrequencies(rotDim, 1000000f, []);
        var rng = new Random(81);
        int half = rotDim / 2;
        foreach (int position in new[] { 0, 1, 7, 1000, 32767 })
        {
            var x = TestData.Floats(rng, nHeads * headDim, 3);
            var y = (float[])x.Clone();
            Rope.ApplyNeox(y, nHeads, headDim, position, inv);
            for (int h = 0; h < nHeads; h++)
            {
                for (int i = 0; i < half; i++)
                {
                    int a = (h * headDim) + i;
                    ExpectRotated(x, y, a, a + half, position * inv[i], position);
                }

                for (int d = rotDim; d < headDim; d++)
                {
                    Assert.Equal(x[(h * headDim) + d], y[(h * headDim) + d]);
                }
            }
        }
    }

    [Fact]
    public void Apply_ValidatesSizes()
    {
        var inv = Rope.InvFrequencies(64, 10000f, []);
        Assert.Throws<ArgumentException>(() => Rope.ApplyNormal(new float[127], 2, 64, 3, inv));
        Assert.Throws<ArgumentException>(() => Rope.ApplyNeox(new float[128], 2, 32, 3, inv));
    }

    /// <summary>(x[a], x[b]) rotated by the float angle θ, with cos and sin taken in double.</summary>
    private static void ExpectRotated(float[] x, float[] y, int a, int b, float theta, int position)
    {
        double c = Math.Cos(theta);
        double s = Math.Sin(theta);
        double ea = (x[a] * c) - (x[b] * s);
        double eb = (x[a] * s) + (x[b] * c);
        double scale = Math.Max(Math.Abs(x[a]), Math.Abs(x[b]));
        if (position == 0)
        {
            Assert.Equal(x[a], y[a]);
            Assert.Equal(x[b], y[b]);
        }

        TestData.AssertClose(ea, y[a], Tolerance.Rope, scale, $"pos={position} a={a}");
        TestData.AssertClose(eb, y[b], Tolerance.Rope, scale, $"pos={position} b={b}");
    }
}
