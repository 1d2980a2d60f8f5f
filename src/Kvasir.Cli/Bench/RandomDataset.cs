namespace Kvasir.Cli.Bench;

/// <summary>Independent prompts of random words with lengths uniform around the requested ones (vLLM's random set).</summary>
public static class RandomDataset
{
    /// <summary>Builds <see cref="DatasetOptions.NumPrompts"/> requests, deterministic for a seed.</summary>
    public static IReadOnlyList<BenchRequest> Generate(DatasetOptions options, WordText text)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(text);
        var random = new Random(options.Seed);
        var requests = new List<BenchRequest>(options.NumPrompts);
        for (var i = 0; i < options.NumPrompts; i++)
        {
            var inputLen = Sample(random, options.RandomInputLen, options.RandomRangeRatio);
            var outputLen = Sample(random, options.RandomOutputLen, options.RandomRangeRatio);
            requests.Add(BenchRequest.User(text.Tokens(random, inputLen), inputLen, outputLen));
        }

        return requests;
    }

    /// <summary>A length uniform in [len × (1 − ratio), len × (1 + ratio)], at least 1.</summary>
    public static int Sample(Random random, int len, double ratio)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (ratio <= 0)
        {
            return Math.Max(1, len);
        }

        var low = Math.Max(1, (int)Math.Floor(len * (1 - ratio)));
        var high = Math.Max(low, (int)Math.Ceiling(len * (1 + ratio)));
        return random.Next(low, high + 1);
    }
}
