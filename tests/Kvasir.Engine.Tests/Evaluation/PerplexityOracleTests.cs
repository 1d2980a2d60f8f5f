using Kvasir.Engine.Evaluation;
using Kvasir.Engine.Tests.Oracle;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Making;
using Kvasir.Model.Tokenizers;
using Xunit.Abstractions;

namespace Kvasir.Engine.Tests.Evaluation;

/// <summary>`kvasir perplexity` against llama.cpp's perplexity of the same model, tokens and windows.</summary>
public class PerplexityOracleTests(ITestOutputHelper log)
{
    /// <summary>Relative PPL difference allowed for F32/F16 weights (both engines keep the KV cache in F16).</summary>
    public const double FloatWeightsTolerance = 1e-3;

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    public void MadeModelMatchesLlamaCpp(GgmlType type)
    {
        var path = TestModels.Make($"ppl-{type}", TestModels.Tiny, type, VocabKind.Bpe);
        using var model = LanguageModel.Open(path);
        var text = string.Concat(Enumerable.Repeat(VocabBuilder.DefaultCorpus, 4));
        var tokens = model.Tokenizer.Encode(text);
        const int Ctx = 128;
        var windows = Math.Min(4, tokens.Length / Ctx);
        Assert.True(windows >= 2, "The test text is too short.");
        AssertMatches(path, model, tokens, Ctx, windows);
    }

    [Fact]
    public void BundledModelMatchesLlamaCpp()
    {
        if (BundledModel.Path is not { } path)
        {
            return; // No bundled model in this checkout.
        }

        using var model = LanguageModel.Open(path);
        var tokens = model.Tokenizer.Encode(File.ReadAllText(BundledModel.HeldOutPath!));
        AssertMatches(path, model, tokens, 256, 4);
    }

    [Fact]
    public void ScoresTheSecondHalfOfEachWindow()
    {
        var path = TestModels.Make("ppl-F32", TestModels.Tiny, GgmlType.F32, VocabKind.Bpe);
        using var model = LanguageModel.Open(path);
        var tokens = model.Tokenizer.Encode(string.Concat(Enumerable.Repeat(VocabBuilder.DefaultCorpus, 2)));
        var windows = new List<PerplexityWindow>();
        var result = Perplexity.Compute(model, tokens, 64, windows.Add, maxWindows: 3);
        Assert.Equal(3, windows.Count);
        Assert.All(windows, w => Assert.Equal(64 - 32 - 1, w.ScoredTokens));
        Assert.Equal(3 * 31, result.ScoredTokens);
        Assert.Equal(result.Value, windows[^1].RunningPerplexity, 12);
        Assert.Equal(Math.Exp(windows.Sum(w => w.NegativeLogLikelihood) / result.ScoredTokens), result.Value, 9);
    }

    private void AssertMatches(string path, LanguageModel model, int[] tokens, int ctx, int windows)
    {
        var ours = Perplexity.Compute(model, tokens, ctx, maxWindows: windows).Value;
        using var oracle = new LlamaCppPerplexity(path, ctx);
        var theirs = oracle.Compute(tokens, ctx, windows, model.Tokenizer.BosId);
        var relative = Math.Abs(ours - theirs) / theirs;
        log.WriteLine($"{Path.GetFileName(path)}: PPL ours {ours:F6}, llama.cpp {theirs:F6}, relative difference {relative:E2} ({windows} windows of {ctx})");
        Assert.True(relative < FloatWeightsTolerance, $"PPL ours {ours:F6}, llama.cpp {theirs:F6}: relative difference {relative:E2}");
    }
}
