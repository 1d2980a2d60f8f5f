using Kvasir.Model.Sampling;

namespace Kvasir.Model.Tests.Sampling;

public class Xoshiro256StarStarTests
{
    [Fact]
    public void MatchesReferenceOutputsFromStateOneTwoThreeFour()
    {
        // xoshiro256** from state {1, 2, 3, 4} (worked by hand from the reference algorithm).
        var rng = new Xoshiro256StarStar(1, 2, 3, 4);
        Assert.Equal(11520UL, rng.NextUInt64());
        Assert.Equal(0UL, rng.NextUInt64());
        Assert.Equal(1509978240UL, rng.NextUInt64());
    }

    [Fact]
    public void SplitMix64MatchesReference()
    {
        ulong state = 1234567;
        Assert.Equal(6457827717110365317UL, Xoshiro256StarStar.SplitMix64(ref state));
        Assert.Equal(3203168211198807973UL, Xoshiro256StarStar.SplitMix64(ref state));
        Assert.Equal(9817491932198370423UL, Xoshiro256StarStar.SplitMix64(ref state));
    }

    [Fact]
    public void NextDoubleIsInUnitInterval()
    {
        var rng = new Xoshiro256StarStar(99);
        double sum = 0;
        for (int i = 0; i < 100_000; i++)
        {
            double d = rng.NextDouble();
            Assert.InRange(d, 0.0, Math.BitDecrement(1.0));
            sum += d;
        }
        Assert.InRange(sum / 100_000, 0.495, 0.505);
    }
}
