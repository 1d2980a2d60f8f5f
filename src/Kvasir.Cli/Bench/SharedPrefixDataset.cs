namespace Kvasir.Cli.Bench;

/// <summary>
/// SGLang's generated-shared-prefix set: <see cref="DatasetOptions.SpNumGroups"/> groups, each with one long system
/// prompt shared by <see cref="DatasetOptions.SpPromptsPerGroup"/> different questions; all prompts shuffled.
/// </summary>
public static class SharedPrefixDataset
{
    /// <summary>Builds groups × prompts-per-group requests, deterministic for a seed.</summary>
    public static IReadOnlyList<BenchRequest> Generate(DatasetOptions options, WordText text)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(text);
        var random = new Random(options.Seed);
        var requests = new List<BenchRequest>(options.SpNumGroups * options.SpPromptsPerGroup);
        for (var g = 0; g < options.SpNumGroups; g++)
        {
            var system = text.Tokens(random, options.SpSystemPromptLen);
            for (var p = 0; p < options.SpPromptsPerGroup; p++)
            {
                var question = text.Tokens(random, options.SpQuestionLen);
                requests.Add(new BenchRequest(
                    [new BenchMessage("system", system), new BenchMessage("user", question)],
                    options.SpSystemPromptLen + options.SpQuestionLen, options.SpOutputLen));
            }
        }

        Shuffle(requests, random);
        return requests;
    }

    /// <summary>Fisher–Yates shuffle with the given generator.</summary>
    public static void Shuffle<T>(IList<T> items, Random random)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(random);
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
