using Kvasir.Engine.Generation;
using Kvasir.Engine.Tests.Oracle;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Making;
using Kvasir.Model.Sampling;

namespace Kvasir.Engine.Tests.Engine;

/// <summary>Concurrent greedy requests produce exactly the tokens each produces alone, whatever the batching.</summary>
public sealed class EngineEquivalenceTests
{
    private static string ModelPath => TestModels.Make("engine-llama", TestModels.Tiny, GgmlType.F32, VocabKind.Bpe);

    private static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };

    private static int[][] Alone(LanguageModel model, int[][] prompts, int maxTokens)
    {
        using var g = Generator.ForTokens(model, 1024);
        return [.. prompts.Select(p => g.Generate(p, Greedy(maxTokens)).Select(t => t.TokenId).ToArray())];
    }

    public static IEnumerable<object[]> Configurations =>
    [
        [512, 16, 1 << 20],   // everything in one step
        [64, 16, 1 << 20],    // chunked prefill, token budget binding
        [7, 16, 1 << 20],     // tiny chunks, odd budget
        [512, 4, 1 << 20],    // few sequences per step
        [48, 8, 40_000],      // small KV pool: preemption by recompute
    ];

    [Theory]
    [MemberData(nameof(Configurations))]
    public void ConcurrentGreedyEqualsAlone(int maxBatchedTokens, int maxSeqs, long kvBytes)
    {
        using var model = LanguageModel.Open(ModelPath);
        int[] lengths = [3, 40, 17, 90, 1, 33, 16, 64];
        var prompts = lengths.Select((n, i) => OracleCases.Prompt(model, n, 100 + i)).ToArray();
        const int maxTokens = 12;
        var expected = Alone(model, prompts, maxTokens);

        using var h = new EngineHarness(model, new EngineOptions { MaxNumBatchedTokens = maxBatchedTokens, MaxNumSeqs = maxSeqs, KvCacheMemoryBytes = kvBytes, BlockSize = 16 });
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.True(h.Add($"r{i}", prompts[i], Greedy(maxTokens)).IsAccepted);
        }

        h.RunToEnd();
        for (var i = 0; i < prompts.Length; i++)
        {
            var d = h.Drain($"r{i}")[0];
            Assert.Equal(expected[i], EngineHarness.Tokens(d));
            Assert.Equal(FinishReason.Length, EngineHarness.Finish(d));
            Assert.Equal(prompts[i].Length, d[^1].Usage!.PromptTokens);
            Assert.Equal(maxTokens, d[^1].Usage!.CompletionTokens);
        }

        Assert.Equal(h.Engine.NumBlocks, h.Engine.NumFreeBlocks);
        if (kvBytes < 100_000)
        {
            Assert.True(h.Engine.Metrics.NumPreemptions > 0, "the small pool should have forced preemption");
        }
    }

    [Fact]
    public void PrefixCachingOnAndOffGiveTheSameTokensAroundBlockBoundaries()
    {
        using var model = LanguageModel.Open(ModelPath);
        var shared = OracleCases.Prompt(model, 70, 7);
        foreach (var prefix in new[] { 15, 16, 17, 31, 32, 33, 48, 64 })
        {
            var a = shared[..prefix].Concat(OracleCases.Prompt(model, 6, prefix)[1..]).ToArray();
            var b = shared[..prefix].Concat(OracleCases.Prompt(model, 9, prefix + 1000)[1..]).ToArray();
            int[][] outputs(bool caching)
            {
                using var h = new EngineHarness(model, new EngineOptions { EnablePrefixCaching = caching, KvCacheMemoryBytes = 1 << 20 });
                h.Add("a", a, Greedy(8));
                h.RunToEnd();
                h.Add("b", b, Greedy(8));
                h.Add("a2", a, Greedy(8));
                h.RunToEnd();
                return [EngineHarness.Tokens(h.Drain("a")[0]), EngineHarness.Tokens(h.Drain("b")[0]), EngineHarness.Tokens(h.Drain("a2")[0])];
            }

            var on = outputs(true);
            var off = outputs(false);
            Assert.Equal(off[0], on[0]);
            Assert.Equal(off[1], on[1]);
            Assert.Equal(off[2], on[2]);
            Assert.Equal(on[0], on[2]);
        }
    }

    [Fact]
    public void SecondIdenticalPromptComputesOnlyTheUncachedTail()
    {
        using var model = LanguageModel.Open(ModelPath);
        var prompt = OracleCases.Prompt(model, 200, 3);
        using var h = new EngineHarness(model, new EngineOptions { KvCacheMemoryBytes = 1 << 20 });
        h.Add("first", prompt, Greedy(1));
        h.RunToEnd();
        var first = h.Drain("first")[0][^1].Usage!;
        var tokensBefore = h.Engine.Metrics.TokensPerStep.Snapshot().Sum;
        h.Add("second", prompt, Greedy(1));
        h.RunToEnd();
        var second = h.Drain("second")[0][^1].Usage!;
        var tokensRun = h.Engine.Metrics.TokensPerStep.Snapshot().Sum - tokensBefore;
        Assert.Equal(0, first.CachedTokens);
        // 200 tokens = 12 full blocks (192) + 8; the last prompt token is always recomputed.
        Assert.Equal(192, second.CachedTokens);
        Assert.Equal(8, tokensRun);
    }

    [Fact]
    public void ParallelSamplingGivesNDifferentReproducibleCompletions()
    {
        using var model = LanguageModel.Open(ModelPath);
        var prompt = OracleCases.Prompt(model, 37, 9);
        var p = new SamplingParams { Temperature = 1f, Seed = 5, MaxTokens = 10, IgnoreEos = true };
        Dictionary<int, List<Kvasir.Engine.TokenDelta>> Run()
        {
            using var h = new EngineHarness(model, new EngineOptions { KvCacheMemoryBytes = 1 << 20 });
            Assert.True(h.Add("p", prompt, p, n: 3).IsAccepted);
            h.RunToEnd();
            Assert.Equal(h.Engine.NumBlocks, h.Engine.NumFreeBlocks);
            return h.Drain("p");
        }

        var a = Run();
        var b = Run();
        Assert.Equal(3, a.Count);
        var completions = Enumerable.Range(0, 3).Select(i => EngineHarness.Tokens(a[i])).ToArray();
        Assert.All(completions, c => Assert.Equal(10, c.Length));
        Assert.Equal(3, completions.Select(c => string.Join(',', c)).Distinct().Count());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(completions[i], EngineHarness.Tokens(b[i]));
        }
    }
}
