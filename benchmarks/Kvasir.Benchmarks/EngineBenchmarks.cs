using System.Diagnostics;
using System.Globalization;
using Kvasir.Engine;
using Kvasir.Model;
using Kvasir.Model.Sampling;

namespace Kvasir.Benchmarks;

/// <summary>Engine-level measurements: prefix-cache TTFT (cold vs warm) and decode throughput by concurrency.</summary>
internal static class EngineBenchmarks
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>TTFT of a long prompt sent twice: the second reuses the cached prefix. Prints the ratio.</summary>
    public static void PrefixCacheTtft(LanguageModel model, int promptLength, int trials)
    {
        using var engine = LlmEngine.Create(model, new EngineOptions { KvCacheMemoryBytes = 512L << 20, MaxNumBatchedTokens = 512 }, Console.Out);
        var cold = new List<double>();
        var warm = new List<double>();
        for (var t = 0; t < trials; t++)
        {
            var rng = new Random(100 + t);
            var prompt = Enumerable.Range(0, promptLength).Select(_ => rng.Next(3, Math.Min(model.Config.VocabSize, 255))).ToArray();
            cold.Add(FirstTokenSeconds(engine, $"cold{t}", prompt));
            warm.Add(FirstTokenSeconds(engine, $"warm{t}", prompt));
        }

        var c = Median(cold);
        var w = Median(warm);
        Console.WriteLine(string.Create(Inv, $"| prefix cache, {promptLength}-token prompt sent twice | cold TTFT {c * 1000:F0} ms | warm TTFT {w * 1000:F1} ms | {c / w:F1}× faster warm |"));
    }

    /// <summary>Total decode tokens/s with N concurrent sequences through the full engine (scheduler, sampling, detokenizing).</summary>
    public static double DecodeThroughput(LanguageModel model, int concurrency, int promptLength, int tokens)
    {
        using var engine = LlmEngine.Create(model, new EngineOptions { KvCacheMemoryBytes = 512L << 20, MaxNumSeqs = Math.Max(concurrency, 1), MaxNumBatchedTokens = Math.Max(512, concurrency * promptLength) });
        var rng = new Random(7);
        var readers = new List<System.Threading.Channels.ChannelReader<TokenDelta>>();
        for (var i = 0; i < concurrency; i++)
        {
            var prompt = Enumerable.Range(0, promptLength).Select(_ => rng.Next(3, Math.Min(model.Config.VocabSize, 255))).ToArray();
            var r = engine.AddRequest(new EngineRequest { RequestId = $"d{i}", PromptTokenIds = prompt, Sampling = new SamplingParams { Temperature = 0, MaxTokens = tokens + 1, IgnoreEos = true } });
            readers.Add(r.Deltas!);
        }

        // The first step prefills every prompt and samples each sequence's first token; time the rest.
        engine.Step();
        var watch = Stopwatch.StartNew();
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var steps = 0;
        while (engine.HasWork)
        {
            engine.Step();
            steps++;
        }

        var seconds = watch.Elapsed.TotalSeconds;
        var allocatedPerStep = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / Math.Max(1, steps);
        Console.Error.WriteLine(string.Create(Inv, $"{concurrency} sequences: {allocatedPerStep:N0} bytes allocated per engine step on the engine thread ({steps} steps)"));
        foreach (var reader in readers)
        {
            while (reader.TryRead(out _))
            {
            }
        }

        return concurrency * (double)steps / seconds;
    }

    private static double FirstTokenSeconds(LlmEngine engine, string id, int[] prompt)
    {
        var watch = Stopwatch.StartNew();
        var r = engine.AddRequest(new EngineRequest { RequestId = id, PromptTokenIds = prompt, Sampling = new SamplingParams { Temperature = 0, MaxTokens = 1, IgnoreEos = true } });
        while (engine.HasWork)
        {
            engine.Step();
        }

        var seconds = watch.Elapsed.TotalSeconds;
        while (r.Deltas!.TryRead(out _))
        {
        }

        return seconds;
    }

    private static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
}
