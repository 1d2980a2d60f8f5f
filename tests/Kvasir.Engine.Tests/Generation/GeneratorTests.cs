using Kvasir.Engine.Generation;
using Kvasir.Engine.Tests.Oracle;
using Kvasir.Kernels.Attention;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Making;
using Kvasir.Model.Sampling;

namespace Kvasir.Engine.Tests.Generation;

public sealed class GeneratorTests
{
    private static string TinyBpe => TestModels.Make("gen-qwen2-bpe", TestModels.Tiny with { Architecture = ModelArchitecture.Qwen2 }, GgmlType.F32, VocabKind.Bpe);

    private static List<GeneratedToken> Run(Generator g, int[] prompt, SamplingParams p, CancellationToken ct = default) => [.. g.Generate(prompt, p, ct)];

    [Fact]
    public void SameSeedSameTokensDifferentSeedDifferentTokens()
    {
        using var model = LanguageModel.Open(TinyBpe);
        using var g = Generator.ForTokens(model, 256);
        var prompt = model.Tokenizer.Encode("Once upon a time", addSpecial: true);
        var p = new SamplingParams { Temperature = 1f, TopK = 0, TopP = 1f, Seed = 11, MaxTokens = 24, IgnoreEos = true };
        var a = Run(g, prompt, p).Select(t => t.TokenId).ToArray();
        var b = Run(g, prompt, p).Select(t => t.TokenId).ToArray();
        var c = Run(g, prompt, p with { Seed = 12 }).Select(t => t.TokenId).ToArray();
        Assert.Equal(24, a.Length);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void GreedyStreamEqualsBatchedGreedyAndTextIsTheDecodedTokens()
    {
        using var model = LanguageModel.Open(TinyBpe);
        using var g = Generator.ForTokens(model, 512);
        var prompt = model.Tokenizer.Encode("The quick brown fox", addSpecial: true);
        var streamed = Run(g, prompt, new SamplingParams { Temperature = 0, MaxTokens = 20, IgnoreEos = true });
        var batched = g.GenerateGreedyBatch([prompt], 20)[0];
        Assert.Equal(batched, streamed.Select(t => t.TokenId).ToArray());
        Assert.Equal(model.Tokenizer.Decode(batched, skipSpecial: true), string.Concat(streamed.Select(t => t.Text)));
        Assert.Equal(FinishReason.Length, streamed[^1].Finish);
        Assert.All(streamed.SkipLast(1), t => Assert.Null(t.Finish));
    }

    [Fact]
    public void PrefillInChunksGivesTheSameLogitsAsOnePass()
    {
        using var model = LanguageModel.Open(TinyBpe);
        var prompt = OracleCases.Prompt(model, 150, 5);
        using var whole = Generator.ForTokens(model, 512);
        using var chunked = new Generator(model, 32, blockSize: 16, KvDataType.F16, prefillChunk: 7);
        var a = whole.Generate(prompt, new SamplingParams { Temperature = 0, MaxTokens = 5, IgnoreEos = true }).Select(t => t.TokenId).ToArray();
        var b = chunked.Generate(prompt, new SamplingParams { Temperature = 0, MaxTokens = 5, IgnoreEos = true }).Select(t => t.TokenId).ToArray();
        Assert.Equal(a, b);
    }

    [Fact]
    public void StopStringEndsGenerationAndIsNeverEmitted()
    {
        using var model = LanguageModel.Open(TinyBpe);
        using var g = Generator.ForTokens(model, 512);
        var prompt = model.Tokenizer.Encode("Tell me", addSpecial: true);
        var free = Run(g, prompt, new SamplingParams { Temperature = 0, MaxTokens = 40, IgnoreEos = true });
        var text = string.Concat(free.Select(t => t.Text));
        Assert.True(text.Length > 6, "the greedy text is too short to pick a stop string from");
        var stop = text.Substring(text.Length / 2, 3);
        var stopped = Run(g, prompt, new SamplingParams { Temperature = 0, MaxTokens = 40, IgnoreEos = true, StopStrings = [stop] });
        var stoppedText = string.Concat(stopped.Select(t => t.Text));
        Assert.Equal(FinishReason.Stop, stopped[^1].Finish);
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], stoppedText);
        Assert.DoesNotContain(stop, stoppedText);
    }

    [Fact]
    public void StopTokenAndEosFinishWithStop()
    {
        using var model = LanguageModel.Open(TinyBpe);
        using var g = Generator.ForTokens(model, 512);
        var prompt = model.Tokenizer.Encode("Tell me", addSpecial: true);
        var free = Run(g, prompt, new SamplingParams { Temperature = 0, MaxTokens = 10, IgnoreEos = true });
        var third = free[2].TokenId;
        var stopped = Run(g, prompt, new SamplingParams { Temperature = 0, MaxTokens = 10, IgnoreEos = true, StopTokenIds = [third] });
        Assert.Equal(free.Select(t => t.TokenId).TakeWhile(t => t != third).Count() + 1, stopped.Count);
        Assert.Equal(FinishReason.Stop, stopped[^1].Finish);
    }

    [Fact]
    public void CancellationAndAbandonmentFreeEveryBlock()
    {
        using var model = LanguageModel.Open(TinyBpe);
        using var g = Generator.ForTokens(model, 256);
        var all = g.NumFreeBlocks;
        var prompt = model.Tokenizer.Encode("Hello", addSpecial: true);
        using var cts = new CancellationTokenSource();
        var seen = new List<GeneratedToken>();
        foreach (var t in g.Generate(prompt, new SamplingParams { Temperature = 0, MaxTokens = 100, IgnoreEos = true }, cts.Token))
        {
            seen.Add(t);
            Assert.True(g.NumFreeBlocks < all);
            if (seen.Count == 3)
            {
                cts.Cancel();
            }
        }

        Assert.Equal(FinishReason.Abort, seen[^1].Finish);
        Assert.Equal(all, g.NumFreeBlocks);

        // Abandoning the enumeration (a client that goes away) also frees the blocks.
        foreach (var _ in g.Generate(prompt, new SamplingParams { Temperature = 0, MaxTokens = 100, IgnoreEos = true }))
        {
            break;
        }

        Assert.Equal(all, g.NumFreeBlocks);
    }

    [Fact]
    public void LogprobsAreReportedAndConsistent()
    {
        using var model = LanguageModel.Open(TinyBpe);
        using var g = Generator.ForTokens(model, 256);
        var prompt = model.Tokenizer.Encode("Hello", addSpecial: true);
        var tokens = Run(g, prompt, new SamplingParams { Temperature = 0, MaxTokens = 5, IgnoreEos = true, Logprobs = 3 });
        foreach (var t in tokens)
        {
            Assert.NotNull(t.Logprob);
            Assert.True(t.Logprob <= 0);
            Assert.Equal(3, t.TopLogprobs!.Count);
            // Greedy: the sampled token is the most likely one.
            Assert.Equal(t.TopLogprobs[0].TokenId, t.TokenId);
            Assert.Equal(t.TopLogprobs[0].Logprob, t.Logprob!.Value, 5);
            Assert.True(t.TopLogprobs[0].Logprob >= t.TopLogprobs[1].Logprob);
        }
    }

    [Fact]
    public void PromptsLongerThanTheContextAreRejectedWithBothNumbers()
    {
        using var model = LanguageModel.Open(TinyBpe);
        using var g = Generator.ForTokens(model, 1024);
        var prompt = new int[model.Config.ContextLength + 5];
        var e = Assert.Throws<ArgumentException>(() => Run(g, prompt, new SamplingParams { MaxTokens = 1 }));
        Assert.Contains(prompt.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.Contains(model.Config.ContextLength.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }
}
