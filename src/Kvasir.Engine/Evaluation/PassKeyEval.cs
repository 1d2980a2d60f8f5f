using Kvasir.Engine.Generation;
using Kvasir.Model;

namespace Kvasir.Engine.Evaluation;

/// <summary>
/// Pass-key retrieval: <c>n</c> seeded documents of <c>ctx</c> tokens (<see cref="PassKeyDocumentBuilder"/>),
/// each prompt greedy-decoded for the answer's length; a document counts when the first run of digits in the
/// output is exactly the key. Documents are drawn from <c>new Random(seed)</c>, so a seed names a test set.
/// </summary>
public static class PassKeyEval
{
    /// <summary>Default seed of the test set (the bundled model trained with other seeds on other text).</summary>
    public const int DefaultSeed = 20261130;

    /// <summary>Prompts decoded together in one batch.</summary>
    public const int BatchSize = 4;

    /// <summary>Runs the evaluation with the full KV cache, calling <paramref name="onTrial"/> after each document.</summary>
    public static PassKeyResult Run(LanguageModel model, IReadOnlyList<string> fillerLines, int n, int ctx, int seed, Action<PassKeyTrial>? onTrial = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var builder = new PassKeyDocumentBuilder(model.Tokenizer, fillerLines);
        var rng = new Random(seed);
        var docs = new PassKeyDocument[n];
        for (var i = 0; i < n; i++)
        {
            docs[i] = builder.Build(rng, ctx);
        }

        using var generator = Generator.ForTokens(model, BatchSize * (ctx + 16));
        var trials = new List<PassKeyTrial>(n);
        for (var b = 0; b < n; b += BatchSize)
        {
            var count = Math.Min(BatchSize, n - b);
            var prompts = new int[count][];
            var maxTokens = 1;
            for (var i = 0; i < count; i++)
            {
                prompts[i] = docs[b + i].Prompt.ToArray();
                maxTokens = Math.Max(maxTokens, docs[b + i].AnswerLength);
            }

            var outputs = generator.GenerateGreedyBatch(prompts, maxTokens);
            for (var i = 0; i < count; i++)
            {
                var doc = docs[b + i];
                var text = model.Tokenizer.Decode(outputs[i]);
                var digits = FirstDigits(text);
                var trial = new PassKeyTrial(b + i, doc.Key, digits.Length > 0 ? digits : text.Trim(), digits == doc.Key, doc.PromptLength, (double)doc.KeyTokenIndex / doc.PromptLength);
                trials.Add(trial);
                onTrial?.Invoke(trial);
            }
        }

        return new PassKeyResult(trials);
    }

    /// <summary>The first run of ASCII digits in <paramref name="text"/> (empty when none).</summary>
    public static string FirstDigits(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var start = 0;
        while (start < text.Length && !char.IsAsciiDigit(text[start]))
        {
            start++;
        }

        var end = start;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        return text[start..end];
    }
}
