using Kvasir.Engine.Generation;
using Kvasir.Engine.Tests.Oracle;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Making;
using Kvasir.Model.Sampling;

namespace Kvasir.Engine.Tests.Engine;

public sealed class EngineRobustnessTests
{
    private static string ModelPath => TestModels.Make("engine-qwen2", TestModels.Tiny with { Architecture = ModelArchitecture.Qwen2 }, GgmlType.F32, VocabKind.Bpe);

    [Fact]
    public void RandomWorkloadWithCancellationsFreesEveryBlockAndNeverHangs()
    {
        using var model = LanguageModel.Open(ModelPath);
        var rng = new Random(2024);
        using var h = new EngineHarness(model, new EngineOptions { KvCacheMemoryBytes = 60_000, MaxNumBatchedTokens = 32, MaxNumSeqs = 6, BlockSize = 8 });
        var live = new List<string>();
        var next = 0;
        for (var step = 0; step < 400; step++)
        {
            if (rng.Next(3) == 0)
            {
                var id = $"q{next++}";
                var prompt = OracleCases.Prompt(model, 1 + rng.Next(60), next);
                var p = new SamplingParams { Temperature = rng.Next(2), Seed = (ulong)next, MaxTokens = 1 + rng.Next(20), IgnoreEos = rng.Next(2) == 0, StopStrings = rng.Next(4) == 0 ? ["e"] : [] };
                if (h.Add(id, prompt, p, n: 1 + rng.Next(2)).IsAccepted)
                {
                    live.Add(id);
                }
            }

            if (live.Count > 0 && rng.Next(6) == 0)
            {
                var victim = live[rng.Next(live.Count)];
                h.Engine.Abort(victim);
            }

            if (h.Engine.HasWork)
            {
                h.Engine.Step();
            }
        }

        h.RunToEnd(maxSteps: 5_000);
        Assert.Equal(h.Engine.NumBlocks, h.Engine.NumFreeBlocks);
        foreach (var id in live)
        {
            var byIndex = h.Drain(id);
            Assert.NotEmpty(byIndex);
            Assert.All(byIndex.Values, d => Assert.NotNull(d[^1].Finish));
        }
    }

    [Fact]
    public void AbortAtEveryStageFreesEveryBlock()
    {
        using var model = LanguageModel.Open(ModelPath);
        var prompt = OracleCases.Prompt(model, 100, 1);
        var p = new SamplingParams { Temperature = 0, MaxTokens = 50, IgnoreEos = true };
        foreach (var abortAfterSteps in new[] { 0, 1, 2, 5, 20 })
        {
            using var h = new EngineHarness(model, new EngineOptions { KvCacheMemoryBytes = 1 << 20, MaxNumBatchedTokens = 32 });
            h.Add("x", prompt, p, n: 2);
            for (var s = 0; s < abortAfterSteps; s++)
            {
                h.Engine.Step();
            }

            h.Engine.Abort("x");
            Assert.Equal(h.Engine.NumBlocks - 0, h.Engine.NumFreeBlocks);
            var d = h.Drain("x");
            Assert.Equal(2, d.Count);
            Assert.All(d.Values, seq => Assert.Equal(FinishReason.Abort, seq[^1].Finish));
            Assert.False(h.Engine.HasWork);
        }
    }

    [Fact]
    public void CapacityErrorsNameBothNumbers()
    {
        using var model = LanguageModel.Open(ModelPath);
        using var h = new EngineHarness(model, new EngineOptions { KvCacheMemoryBytes = 20_000, BlockSize = 16 });
        var tooLong = new int[model.Config.ContextLength + 1];
        var r = h.Add("long", tooLong, new SamplingParams { MaxTokens = 1 });
        Assert.Equal(SubmitStatus.PromptTooLong, r.Status);
        Assert.Contains((model.Config.ContextLength + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), r.ErrorMessage);
        var overPool = new int[(h.Engine.NumBlocks * 16) + 5];
        var r2 = h.Add("pool", overPool, new SamplingParams { MaxTokens = 1 });
        Assert.NotEqual(SubmitStatus.Accepted, r2.Status);
        Assert.Contains(overPool.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), r2.ErrorMessage);
    }

    [Fact]
    public async Task EngineLoopServesConcurrentClientsAndIdlesWithoutWork()
    {
        using var model = LanguageModel.Open(ModelPath);
        using var engine = LlmEngine.Create(model, new EngineOptions { KvCacheMemoryBytes = 1 << 20 });
        await using var loop = new EngineLoop(engine);
        loop.Start();
        var prompt = OracleCases.Prompt(model, 20, 4);
        var tasks = Enumerable.Range(0, 6).Select(async i =>
        {
            var r = await loop.SubmitAsync(new EngineRequest { RequestId = $"c{i}", PromptTokenIds = prompt, Sampling = new SamplingParams { Temperature = 0, MaxTokens = 8, IgnoreEos = true } });
            Assert.True(r.IsAccepted, r.ErrorMessage);
            var tokens = new List<int>();
            await foreach (var d in r.Deltas!.ReadAllAsync())
            {
                tokens.AddRange(d.TokenIds);
            }

            return tokens.ToArray();
        }).ToArray();
        var results = await Task.WhenAll(tasks);
        Assert.All(results, t => Assert.Equal(results[0], t));

        // Idle: the engine thread blocks on its command channel instead of spinning.
        await Task.Delay(100);
        var before = loop.Iterations;
        await Task.Delay(500);
        Assert.Equal(before, loop.Iterations);
        Assert.Equal(engine.NumBlocks, engine.NumFreeBlocks);
    }
}
