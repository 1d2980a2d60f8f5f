using System.Text.Json;

namespace Kvasir.Cli.Tests.Bench;

/// <summary>`kvasir bench serve` end to end against live in-process Kvasir servers.</summary>
public sealed class BenchServeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kvasir-bench-").FullName;

    static BenchServeTests()
    {
        // Other test classes block pool threads (synchronous Program.Run on two cores); without spare threads the
        // load generator's timer continuations wait for the pool's ~0.5 s thread injection and trace replay runs late.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), io);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        // Program.Run blocks its thread until the benchmark ends, as Main does: give it its own thread, not a pool one.
        var code = await Task.Factory.StartNew(() => Program.Run(args, output, error), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return (code, output.ToString(), error.ToString());
    }

    private static double[] Doubles(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetDouble())];

    [Fact]
    public async Task RandomRunWritesAConsistentVllmResult()
    {
        await using var server = await LiveServer.StartAsync();
        var path = Path.Combine(_dir, "random.json");
        var r = await RunAsync("bench", "serve", "--base-url", server.BaseUrl, "--dataset", "random", "--num-prompts", "12",
            "--random-input-len", "40", "--random-output-len", "8", "--random-range-ratio", "0.25", "--request-rate", "50", "--seed", "1",
            "--warmup", "1", "--goodput", "ttft:100000", "e2el:100000", "--percentiles", "50,90,99", "--result-file", path);
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("| request_throughput |", r.Out);

        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var j = doc.RootElement;
        foreach (var key in new[] { "date", "backend", "model_id", "num_prompts", "request_rate", "burstiness", "max_concurrency", "duration", "completed",
                     "total_input_tokens", "total_output_tokens", "request_throughput", "request_goodput", "output_throughput", "total_token_throughput",
                     "input_lens", "output_lens", "ttfts", "itls", "generated_texts", "errors", "max_output_tokens_per_s", "max_concurrent_requests",
                     "failed", "tokenizer_id", "mean_ttft_ms", "median_tpot_ms", "std_itl_ms", "p99_e2el_ms" })
        {
            Assert.True(j.TryGetProperty(key, out _), key);
        }

        Assert.Equal("tiny", j.GetProperty("model_id").GetString());
        Assert.Equal(12, j.GetProperty("num_prompts").GetInt32());
        Assert.Equal(12, j.GetProperty("completed").GetInt32());
        Assert.Equal(0, j.GetProperty("failed").GetInt32());
        Assert.Equal(50, j.GetProperty("request_rate").GetDouble());
        var outputLens = Doubles(j.GetProperty("output_lens"));
        // ignore_eos: each request generates exactly its drawn length, uniform in [6, 10] for 8 ± 25 %.
        Assert.All(outputLens, n => Assert.InRange(n, 6, 10));
        Assert.True(outputLens.Distinct().Count() > 1);
        var totalOutput = outputLens.Sum();
        Assert.Equal(totalOutput, j.GetProperty("total_output_tokens").GetDouble());
        Assert.Equal(Doubles(j.GetProperty("input_lens")).Sum(), j.GetProperty("total_input_tokens").GetDouble());
        Assert.All(Doubles(j.GetProperty("input_lens")), n => Assert.InRange(n, 15, 80));
        Assert.Equal(12, j.GetProperty("itls").GetArrayLength());
        Assert.Equal(12, j.GetProperty("ttfts").GetArrayLength());
        var duration = j.GetProperty("duration").GetDouble();
        Assert.Equal(12 / duration, j.GetProperty("request_throughput").GetDouble(), 6);
        Assert.Equal(totalOutput / duration, j.GetProperty("output_throughput").GetDouble(), 6);
        Assert.True(j.GetProperty("request_goodput").GetDouble() <= j.GetProperty("request_throughput").GetDouble());
        Assert.True(j.GetProperty("request_goodput").GetDouble() > 0);
        foreach (var m in new[] { "ttft", "tpot", "itl", "e2el" })
        {
            var p50 = j.GetProperty($"p50_{m}_ms").GetDouble();
            var p90 = j.GetProperty($"p90_{m}_ms").GetDouble();
            var p99 = j.GetProperty($"p99_{m}_ms").GetDouble();
            Assert.True(p50 > 0, m);
            Assert.True(p50 <= p90 && p90 <= p99, m);
            Assert.Equal(p50, j.GetProperty($"median_{m}_ms").GetDouble());
            Assert.True(j.GetProperty($"std_{m}_ms").GetDouble() >= 0);
        }

        // Every request's TTFT is below its end-to-end latency, and the TTFT mean is below the E2EL mean.
        Assert.True(j.GetProperty("mean_ttft_ms").GetDouble() < j.GetProperty("mean_e2el_ms").GetDouble());
        var starts = Doubles(j.GetProperty("start_times"));
        Assert.True(starts.Zip(starts.Skip(1)).All(p => p.Second >= p.First));
        Assert.True(j.GetProperty("server_metric_deltas").GetProperty("vllm:generation_tokens_total").GetDouble() >= totalOutput);
        Assert.True(j.TryGetProperty("server_peak_kv_cache_usage", out _));
        Assert.All(j.GetProperty("generated_texts").EnumerateArray(), t => Assert.NotEqual("", t.GetString()));
        Assert.InRange(j.GetProperty("max_concurrent_requests").GetInt32(), 1, 12);
        Assert.InRange(j.GetProperty("max_output_tokens_per_s").GetDouble(), 1, totalOutput);
    }

    [Fact]
    public async Task SharedPrefixHitsTheCacheOnlyWhenCachingIsOn()
    {
        await using var on = await LiveServer.StartAsync(prefixCaching: true);
        await using var off = await LiveServer.StartAsync(prefixCaching: false);
        var path = Path.Combine(_dir, "sp.json");
        var r = await RunAsync("bench", "serve", "--compare", on.BaseUrl, off.BaseUrl, "--endpoint", "chat", "--dataset", "shared-prefix",
            "--sp-num-groups", "2", "--sp-prompts-per-group", "6", "--sp-system-prompt-len", "160", "--sp-question-len", "16", "--sp-output-len", "6",
            "--max-concurrency", "2", "--result-file", path, "--plot-dir", Path.Combine(_dir, "plots"));
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("## Comparison", r.Out);
        Assert.Contains("| total_cached_tokens |", r.Out);

        using var a = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "sp-A.json")));
        using var b = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "sp-B.json")));
        Assert.Equal(12, a.RootElement.GetProperty("completed").GetInt32());
        Assert.Equal(12, b.RootElement.GetProperty("completed").GetInt32());
        Assert.Equal(a.RootElement.GetProperty("total_input_tokens").GetInt32(), b.RootElement.GetProperty("total_input_tokens").GetInt32());
        // With caching on, at least 10 of the 12 requests find their group's system prompt cached (a block's worth or more).
        var cachedA = Doubles(a.RootElement.GetProperty("cached_lens"));
        Assert.True(cachedA.Count(c => c >= 16) >= 10, string.Join(",", cachedA));
        Assert.All(Doubles(b.RootElement.GetProperty("cached_lens")), c => Assert.Equal(0, c));
        Assert.True(a.RootElement.GetProperty("server_prefix_cache_hits").GetDouble() > 0);
        Assert.Equal(0, b.RootElement.GetProperty("server_prefix_cache_hits").GetDouble());
        Assert.Equal("openai-chat", a.RootElement.GetProperty("backend").GetString());
        foreach (var png in new[] { "cdf-ttft.png", "cdf-tpot.png", "cdf-itl.png", "cdf-e2el.png", "throughput.png", "kv-usage.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(_dir, "plots", png));
            Assert.True(bytes.Length > 1000, png);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
    }

    [Fact]
    public async Task MooncakeReplayHonoursScaledTimestampsAndSharesPrefixes()
    {
        await using var server = await LiveServer.StartAsync();
        var path = Path.Combine(_dir, "mc.json");
        var r = await RunAsync("bench", "serve", "--base-url", server.BaseUrl, "--dataset", "mooncake", BenchData.Mooncake, "--mooncake-block-size", "64",
            "--time-scale", "0.5", "--result-file", path);
        Assert.True(r.Code == 0, r.Err + r.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var j = doc.RootElement;
        Assert.Equal(8, j.GetProperty("completed").GetInt32());
        Assert.Equal(0.5, j.GetProperty("time_scale").GetDouble());
        double[] trace = [0, 0.1, 0.25, 0.3, 0.52, 0.6, 0.75, 0.9];
        var starts = Doubles(j.GetProperty("start_times"));
        for (var i = 0; i < trace.Length; i++)
        {
            // Never early (timer granularity aside); late by at most a scheduling hiccup on a busy two-core machine.
            var late = starts[i] - trace[i] * 0.5;
            Assert.True(late is > -0.005 and < 0.3, $"request {i} sent {late * 1000:0.0} ms after its trace time; all: {string.Join(", ", starts)}");
        }

        Assert.True(j.GetProperty("duration").GetDouble() >= 0.45);
        // Requests 1, 3 and 7 repeat hash ids 0 and 1 of request 0: 128 shared words, at least one 16-token block cached.
        var cached = Doubles(j.GetProperty("cached_lens"));
        Assert.True(cached[3] >= 16 && cached[7] >= 16, string.Join(",", cached));
    }

    [Fact]
    public async Task MultiTurnAndBurstGptRunToCompletion()
    {
        await using var server = await LiveServer.StartAsync();
        var mt = Path.Combine(_dir, "mt.json");
        var r = await RunAsync("bench", "serve", "--base-url", server.BaseUrl, "--endpoint", "chat", "--dataset", "multi-turn", "--num-prompts", "8",
            "--mt-turns", "2", "--mt-user-len", "24", "--mt-output-len", "6", "--max-concurrency", "4", "--result-file", mt);
        Assert.True(r.Code == 0, r.Err + r.Out);
        using (var doc = JsonDocument.Parse(File.ReadAllText(mt)))
        {
            Assert.Equal(8, doc.RootElement.GetProperty("completed").GetInt32());
            Assert.Equal(4, doc.RootElement.GetProperty("max_concurrency").GetInt32());
            Assert.True(doc.RootElement.GetProperty("mean_ttft_ms_turn_1").GetDouble() > 0);
            Assert.True(doc.RootElement.GetProperty("mean_ttft_ms_turn_2").GetDouble() > 0);
            Assert.False(doc.RootElement.TryGetProperty("mean_ttft_ms_turn_3", out _));
        }

        var bg = Path.Combine(_dir, "bg.json");
        r = await RunAsync("bench", "serve", "--base-url", server.BaseUrl, "--dataset", "burstgpt", BenchData.BurstGpt, "--time-scale", "0.1", "--result-file", bg);
        Assert.True(r.Code == 0, r.Err + r.Out);
        using var burst = JsonDocument.Parse(File.ReadAllText(bg));
        Assert.Equal(4, burst.RootElement.GetProperty("completed").GetInt32());
        Assert.Equal([8, 6, 7, 5], Doubles(burst.RootElement.GetProperty("output_lens")));
    }

    [Fact]
    public async Task UnreachableServerIsOneClearLine()
    {
        var r = await RunAsync("bench", "serve", "--base-url", "http://127.0.0.1:1", "--num-prompts", "2");
        Assert.Equal(2, r.Code);
        Assert.Contains("--model", r.Err);
        r = await RunAsync("bench", "serve", "--base-url", "ftp://x", "--model", "m");
        Assert.Equal(2, r.Code);
        Assert.Contains("--base-url", r.Err);
    }
}
