using Kvasir.Model.Sampling;

namespace Kvasir.Model.Tests.Sampling;

public class SamplerTests
{
    // Frequencies over Draws samples: a binomial standard deviation at p = 0.4 is sqrt(0.24 / 20000) ≈ 0.0035,
    // so 0.012 is about 3.5 sigma. The seeds are fixed, so the result does not change between runs.
    private const int Draws = 20_000;
    private const double DistributionTolerance = 0.012;
    private const float LogprobTolerance = 1e-5f;

    private static readonly float[] FourTokens = [MathF.Log(0.1f), MathF.Log(0.2f), MathF.Log(0.3f), MathF.Log(0.4f)];

    private static float[] RandomLogits(int vocab, int seed, float scale = 3f)
    {
        var rng = new Random(seed);
        var logits = new float[vocab];
        for (int i = 0; i < vocab; i++)
            logits[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        return logits;
    }

    private static double[] Frequencies(Sampler sampler, float[] logits, int draws = Draws)
    {
        var counts = new double[logits.Length];
        for (int i = 0; i < draws; i++)
            counts[sampler.Sample(logits, [], [])]++;
        for (int i = 0; i < counts.Length; i++)
            counts[i] /= draws;
        return counts;
    }

    private static void AssertDistribution(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= DistributionTolerance, $"token {i}: expected {expected[i]:F4}, got {actual[i]:F4}");
    }

    private static int[] Kept(Sampler s) => [.. s.KeptCandidates.ToArray().Order()];

    [Fact]
    public void GreedyIsArgmax()
    {
        var sampler = new Sampler(SamplingParams.Greedy, 1000);
        for (int seed = 0; seed < 50; seed++)
        {
            float[] logits = RandomLogits(1000, seed);
            int expected = Array.IndexOf(logits, logits.Max());
            Assert.Equal(expected, sampler.Sample(logits, [], []));
        }
    }

    [Fact]
    public void GreedyBreaksTiesTowardTheLowerIdAndIgnoresTheSeed()
    {
        float[] logits = [1f, 5f, 2f, 5f, float.NaN];
        Assert.Equal(1, new Sampler(SamplingParams.Greedy with { Seed = 1 }, 5).Sample(logits, [], []));
        Assert.Equal(1, new Sampler(SamplingParams.Greedy with { Seed = 2 }, 5).Sample(logits, [], []));
    }

    [Fact]
    public void SameSeedSameTokensDifferentSeedDifferentTokens()
    {
        float[] logits = RandomLogits(50, 7, scale: 1f);
        var p = new SamplingParams { Seed = 1234, TopK = 40, TopP = 0.95f };
        var a = new Sampler(p, 50);
        var b = new Sampler(p, 50);
        var c = new Sampler(p with { Seed = 1235 }, 50);
        int[] seqA = Enumerable.Range(0, 1000).Select(_ => a.Sample(logits, [], [])).ToArray();
        int[] seqB = Enumerable.Range(0, 1000).Select(_ => b.Sample(logits, [], [])).ToArray();
        int[] seqC = Enumerable.Range(0, 1000).Select(_ => c.Sample(logits, [], [])).ToArray();
        Assert.Equal(seqA, seqB);
        Assert.True(seqA.Zip(seqC).Count(t => t.First != t.Second) > 500);
        Assert.Equal(1234UL, a.Seed);
    }

    [Fact]
    public void SeededTokensArePinned()
    {
        // Pinned so that any change to the generator, its seeding or the draw is a visible decision:
        // users rely on a seed reproducing a completion across releases.
        var sampler = new Sampler(new SamplingParams { Seed = 42 }, 4);
        int[] tokens = Enumerable.Range(0, 16).Select(_ => sampler.Sample(FourTokens, [], [])).ToArray();
        Assert.Equal(PinnedSeed42Tokens, tokens);
    }

    [Fact]
    public void UnseededSamplersDrawDifferentSeeds()
    {
        var a = new Sampler(new SamplingParams(), 4);
        var b = new Sampler(new SamplingParams(), 4);
        Assert.NotEqual(a.Seed, b.Seed);
    }

    [Fact]
    public void TemperatureOneFollowsTheModelDistribution()
    {
        var sampler = new Sampler(new SamplingParams { Seed = 1 }, 4);
        AssertDistribution([0.1, 0.2, 0.3, 0.4], Frequencies(sampler, FourTokens));
    }

    [Fact]
    public void TemperatureSharpensAndFlattens()
    {
        // T = 0.5 squares the probabilities: 1 : 4 : 9 : 16.
        var sharp = new Sampler(new SamplingParams { Seed = 2, Temperature = 0.5f }, 4);
        AssertDistribution([1 / 30.0, 4 / 30.0, 9 / 30.0, 16 / 30.0], Frequencies(sharp, FourTokens));

        // T = 2 takes square roots.
        double[] roots = [Math.Sqrt(0.1), Math.Sqrt(0.2), Math.Sqrt(0.3), Math.Sqrt(0.4)];
        double total = roots.Sum();
        var flat = new Sampler(new SamplingParams { Seed = 3, Temperature = 2f }, 4);
        AssertDistribution([.. roots.Select(r => r / total)], Frequencies(flat, FourTokens));
    }

    [Fact]
    public void TopKKeepsExactlyTheKMostLikely()
    {
        var sampler = new Sampler(new SamplingParams { Seed = 4, TopK = 2 }, 4);
        AssertDistribution([0, 0, 3 / 7.0, 4 / 7.0], Frequencies(sampler, FourTokens));
        Assert.Equal([2, 3], Kept(sampler));
    }

    [Fact]
    public void TopKTiesAtTheCutKeepTheLowerIds()
    {
        var sampler = new Sampler(new SamplingParams { Seed = 5, TopK = 3 }, 6);
        sampler.Sample([1f, 2f, 2f, 0f, 2f, 2f], [], []);
        Assert.Equal([1, 2, 4], Kept(sampler));
    }

    [Theory]
    [InlineData(0.35f, new[] { 3 })]
    [InlineData(0.5f, new[] { 2, 3 })]
    [InlineData(0.65f, new[] { 2, 3 })]
    [InlineData(0.75f, new[] { 1, 2, 3 })]
    [InlineData(0.95f, new[] { 0, 1, 2, 3 })]
    [InlineData(1f, new[] { 0, 1, 2, 3 })]
    public void TopPKeepsTheSmallestNucleus(float topP, int[] expected)
    {
        var sampler = new Sampler(new SamplingParams { Seed = 6, TopP = topP }, 4);
        double[] freq = Frequencies(sampler, FourTokens, 2000);
        Assert.Equal(expected, Kept(sampler));
        for (int t = 0; t < 4; t++)
            Assert.Equal(expected.Contains(t), freq[t] > 0);
    }

    [Fact]
    public void TopPOnALargeVocabularyMatchesAReference()
    {
        // 5000 tokens and a nucleus of hundreds: exercises the growing selection window.
        float[] logits = RandomLogits(5000, 11, scale: 2f);
        const float topP = 0.9f;
        var sampler = new Sampler(new SamplingParams { Seed = 7, TopP = topP }, logits.Length);
        sampler.Sample(logits, [], []);

        int[] order = [.. Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i)];
        double max = logits.Max();
        double[] p = [.. order.Select(i => Math.Exp(logits[i] - max))];
        double target = topP * p.Sum();
        int n = 0;
        double cum = 0;
        while (cum < target)
            cum += p[n++];
        Assert.True(n > 64, $"nucleus of {n} tokens does not exercise the window growth");
        Assert.Equal([.. order[..n].Order()], Kept(sampler));
    }

    [Theory]
    [InlineData(0.3f, new[] { 1, 2, 3 })]  // keep p >= 0.12
    [InlineData(0.6f, new[] { 2, 3 })]     // keep p >= 0.24
    [InlineData(0.8f, new[] { 3 })]        // keep p >= 0.32
    public void MinPKeepsTokensAboveAFractionOfTheBest(float minP, int[] expected)
    {
        var sampler = new Sampler(new SamplingParams { Seed = 8, MinP = minP }, 4);
        sampler.Sample(FourTokens, [], []);
        Assert.Equal(expected, Kept(sampler));
    }

    [Fact]
    public void FiltersApplyInOrderTopKThenTopPThenMinP()
    {
        // top-k 3 leaves 0.2 : 0.3 : 0.4 (renormalised 0.222, 0.333, 0.444); top-p 0.7 then keeps {3, 2}
        // (without top-k, 0.4 + 0.3 would sit exactly on 0.7); min-p 0.8 keeps 3 only (0.333 < 0.8 * 0.444).
        var sampler = new Sampler(new SamplingParams { Seed = 9, TopK = 3, TopP = 0.7f }, 4);
        sampler.Sample(FourTokens, [], []);
        Assert.Equal([2, 3], Kept(sampler));
        sampler = new Sampler(new SamplingParams { Seed = 9, TopK = 3, TopP = 0.7f, MinP = 0.8f }, 4);
        sampler.Sample(FourTokens, [], []);
        Assert.Equal([3], Kept(sampler));
    }

    [Fact]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits()
    {
        float[] logits = [2f, -1f, 0.5f, 3f, 0f];
        var sampler = new Sampler(new SamplingParams { RepetitionPenalty = 1.5f, RepeatLastN = -1 }, 5);
        sampler.ApplyBiasAndPenalties(logits, [0, 2, 0], [1, 1]);
        Assert.Equal([2f / 1.5f, -1f * 1.5f, 0.5f / 1.5f, 3f, 0f], sampler.ProcessedLogits.ToArray());
    }

    [Theory]
    [InlineData(0, new[] { 2f, -1f, 0.5f, 3f })]
    [InlineData(1, new[] { 2f, -1.5f, 0.5f, 3f })]               // output token 1 only
    [InlineData(2, new[] { 2f, -1.5f, 0.5f / 1.5f, 3f })]        // + last prompt token 2
    [InlineData(3, new[] { 2f / 1.5f, -1.5f, 0.5f / 1.5f, 3f })] // + prompt token 0
    [InlineData(64, new[] { 2f / 1.5f, -1.5f, 0.5f / 1.5f, 3f })]
    public void RepetitionPenaltyWindowCountsBackFromTheLastToken(int lastN, float[] expected)
    {
        var sampler = new Sampler(new SamplingParams { RepetitionPenalty = 1.5f, RepeatLastN = lastN }, 4);
        sampler.ApplyBiasAndPenalties([2f, -1f, 0.5f, 3f], [0, 2], [1]);
        Assert.Equal(expected, sampler.ProcessedLogits.ToArray());
    }

    [Fact]
    public void PresenceAndFrequencyPenaltiesCountOutputTokensOnly()
    {
        var sampler = new Sampler(new SamplingParams { PresencePenalty = 0.25f, FrequencyPenalty = 0.5f }, 5);
        sampler.ApplyBiasAndPenalties([1f, 1f, 1f, 1f, 1f], [0, 0, 4], [1, 3, 1]);
        // token 1: 1 - (2 * 0.5 + 0.25); token 3: 1 - (0.5 + 0.25); prompt tokens 0 and 4 untouched.
        Assert.Equal([1f, -0.25f, 1f, 0.25f, 1f], sampler.ProcessedLogits.ToArray());

        // A second call starts from clean counters.
        sampler.ApplyBiasAndPenalties([1f, 1f, 1f, 1f, 1f], [], [2]);
        Assert.Equal([1f, 1f, 0.25f, 1f, 1f], sampler.ProcessedLogits.ToArray());
    }

    [Fact]
    public void BiasComesBeforePenalties()
    {
        var sampler = new Sampler(new SamplingParams
        {
            LogitBias = new Dictionary<int, float> { [0] = 1f, [2] = -0.5f },
            RepetitionPenalty = 2f,
        }, 3);
        sampler.ApplyBiasAndPenalties([2f, 0f, 1f], [0], []);
        Assert.Equal([1.5f, 0f, 0.5f], sampler.ProcessedLogits.ToArray()); // (2 + 1) / 2, untouched, 1 - 0.5
    }

    [Fact]
    public void PenaltiesChangeTheGreedyChoice()
    {
        var sampler = new Sampler(SamplingParams.Greedy with { FrequencyPenalty = 1f }, 3);
        Assert.Equal(0, sampler.Sample([2f, 1.5f, 0f], [], []));
        Assert.Equal(1, sampler.Sample([2f, 1.5f, 0f], [], [0]));
    }

    [Fact]
    public void LogitBiasMinus100Bans()
    {
        var ban = new Dictionary<int, float> { [3] = -100f };
        Assert.Equal(2, new Sampler(SamplingParams.Greedy with { LogitBias = ban }, 4).Sample(FourTokens, [], []));
        double[] freq = Frequencies(new Sampler(new SamplingParams { Seed = 10, LogitBias = ban }, 4), FourTokens);
        Assert.Equal(0, freq[3]);
        AssertDistribution([1 / 6.0, 2 / 6.0, 3 / 6.0, 0], freq);
    }

    [Fact]
    public void NaNAndNegativeInfinityAreNeverSampled()
    {
        float[] logits = [float.NaN, 0f, float.NegativeInfinity, 0f];
        double[] freq = Frequencies(new Sampler(new SamplingParams { Seed = 11 }, 4), logits, 4000);
        Assert.Equal(0, freq[0]);
        Assert.Equal(0, freq[2]);
        AssertDistribution([0, 0.5, 0, 0.5], freq);
    }

    [Fact]
    public void LogprobsAreRawLogSoftmax()
    {
        float[] logits = RandomLogits(100, 12);
        var p = new SamplingParams
        {
            Seed = 13,
            Temperature = 0.7f,
            TopK = 10,
            RepetitionPenalty = 1.3f,
            LogitBias = new Dictionary<int, float> { [5] = 4f },
            Logprobs = 5,
        };
        var sampler = new Sampler(p, 100);
        double max = logits.Max();
        double lse = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
        int[] top = [.. Enumerable.Range(0, 100).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(5)];

        for (int step = 0; step < 50; step++)
        {
            int token = sampler.Sample(logits, [1, 2, 3], [5, 7]);
            Assert.Equal(logits[token] - lse, sampler.SampledLogprob, LogprobTolerance);
            Assert.Equal(1 + logits.Count(l => l > logits[token]), sampler.SampledRank);
            Assert.Equal(top, sampler.TopLogprobTokenIds.ToArray());
            for (int i = 0; i < 5; i++)
                Assert.Equal(logits[top[i]] - lse, sampler.TopLogprobs[i], LogprobTolerance);
        }

        var ids = new int[8];
        var lps = new float[8];
        Assert.Equal(5, sampler.GetTopLogprobs(ids, lps));
        Assert.Equal(top, ids[..5]);
        Assert.Equal(sampler.TopLogprobs.ToArray(), lps[..5]);
    }

    [Fact]
    public void LogprobsOffAndSampledOnly()
    {
        var off = new Sampler(new SamplingParams { Seed = 1 }, 4);
        off.Sample(FourTokens, [], []);
        Assert.True(float.IsNaN(off.SampledLogprob));
        Assert.True(off.TopLogprobTokenIds.IsEmpty);

        var only = new Sampler(new SamplingParams { Seed = 1, Logprobs = 0 }, 4);
        int t = only.Sample(FourTokens, [], []);
        Assert.Equal(FourTokens[t] - MathF.Log(1f), only.SampledLogprob, LogprobTolerance);
        Assert.True(only.TopLogprobTokenIds.IsEmpty);
    }

    [Fact]
    public void SamplingDoesNotAllocatePerToken()
    {
        // The vocabulary size does not change what is allocated; a small one keeps the test fast.
        const int vocab = 1024;
        float[] logits = RandomLogits(vocab, 14);
        int[] prompt = [.. Enumerable.Range(0, 300).Select(i => (i * 37) % vocab)];
        int[] generated = [.. Enumerable.Range(0, 200).Select(i => (i * 91) % vocab)];
        var everything = new SamplingParams
        {
            Seed = 15,
            Temperature = 0.8f,
            TopK = 50,
            TopP = 0.9f,
            MinP = 0.05f,
            RepetitionPenalty = 1.1f,
            PresencePenalty = 0.3f,
            FrequencyPenalty = 0.2f,
            LogitBias = new Dictionary<int, float> { [1] = -100f, [2] = 3f },
            Logprobs = 5,
        };
        SamplingParams[] variants =
        [
            everything,
            everything with { TopK = 0 },           // top-p over the whole vocabulary
            new SamplingParams { Seed = 16 },       // plain
            SamplingParams.Greedy with { Logprobs = 20 },
        ];
        foreach (SamplingParams p in variants)
        {
            var sampler = new Sampler(p, vocab);
            for (int i = 0; i < 50; i++)
                sampler.Sample(logits, prompt, generated);

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
                sampler.Sample(logits, prompt, generated);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void WrongLogitCountThrows() =>
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingParams(), 4).Sample(new float[5], [], []));

    private static readonly int[] PinnedSeed42Tokens = [0, 2, 3, 3, 3, 3, 3, 3, 3, 2, 3, 1, 3, 2, 3, 3];
}
