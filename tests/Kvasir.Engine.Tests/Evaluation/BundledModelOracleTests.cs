using Kvasir.Engine.Generation;
using Kvasir.Engine.Tests.Oracle;
using Kvasir.Model;
using Xunit.Abstractions;

namespace Kvasir.Engine.Tests.Evaluation;

/// <summary>The bundled trained model: llama.cpp loads it and greedy sequences match exactly (its perplexity: PerplexityOracleTests).</summary>
public class BundledModelOracleTests(ITestOutputHelper log)
{
    private static readonly string[] Prompts =
    [
        "And God said",
        "In the beginning",
        "The LORD is my shepherd",
        "A fool and his money",
    ];

    [Fact]
    public void GreedySequencesMatchLlamaCppExactly()
    {
        if (BundledModel.Path is not { } path)
        {
            return; // No bundled model in this checkout.
        }

        using var model = LanguageModel.Open(path);
        using var oracle = new LlamaCppOracle(path, contextSize: 256, sequences: 1);
        using var generator = Generator.ForTokens(model, 4 * 256);
        var prompts = Prompts.Select(p => model.Tokenizer.Encode(p)).ToArray();
        const int Count = 48;
        var ours = generator.GenerateGreedyBatch(prompts, Count);
        for (var i = 0; i < prompts.Length; i++)
        {
            var (theirs, gaps) = oracle.Greedy(prompts[i], Count);
            log.WriteLine($"{Prompts[i]}|{model.Tokenizer.Decode(ours[i])}  (smallest top-two gap {gaps.Min():F3})");
            Assert.Equal(theirs, ours[i]);
        }
    }
}
