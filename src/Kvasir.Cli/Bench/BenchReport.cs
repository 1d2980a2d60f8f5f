namespace Kvasir.Cli.Bench;

/// <summary>
/// The statistics of one run in vLLM's serving-benchmark vocabulary: counts, throughputs, goodput, and mean / median /
/// std / percentiles of TTFT, TPOT, ITL and E2EL in milliseconds, plus the server's counter deltas.
/// </summary>
public sealed class BenchReport
{
    /// <summary>The latency metrics reported, with their vLLM key stems.</summary>
    public static readonly string[] LatencyMetrics = ["ttft", "tpot", "itl", "e2el"];

    private BenchReport(BenchRun run, IReadOnlyList<double> percentiles)
    {
        Run = run;
        Percentiles = percentiles;
    }

    /// <summary>The raw run.</summary>
    public BenchRun Run { get; }

    /// <summary>The percentiles reported.</summary>
    public IReadOnlyList<double> Percentiles { get; }

    /// <summary>Successful requests.</summary>
    public int Completed { get; private set; }

    /// <summary>Failed requests (any cause).</summary>
    public int Failed { get; private set; }

    /// <summary>Requests refused with 429.</summary>
    public int RateLimited { get; private set; }

    /// <summary>Requests meeting every SLO.</summary>
    public int GoodCount { get; private set; }

    /// <summary>Scalar results in a fixed order (vLLM's keys and Kvasir's extras).</summary>
    public Dictionary<string, double> Metrics { get; } = new(StringComparer.Ordinal);

    /// <summary>Computes the report of a run.</summary>
    public static BenchReport Create(BenchRun run, BenchOptions options)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(options);
        var report = new BenchReport(run, options.Percentiles);
        var ttfts = new List<double>();
        var tpots = new List<double>();
        var itls = new List<double>();
        var e2els = new List<double>();
        long input = 0, output = 0, cached = 0;
        foreach (var o in run.Outcomes)
        {
            if (!o.Success)
            {
                report.Failed++;
                report.RateLimited += o.Status == 429 ? 1 : 0;
                continue;
            }

            report.Completed++;
            input += o.PromptTokens;
            output += o.OutputTokens;
            cached += o.CachedTokens;
            ttfts.Add(o.Ttft * 1000);
            if (o.OutputTokens > 1)
            {
                tpots.Add(o.Tpot * 1000);
            }

            foreach (var gap in o.Itls)
            {
                itls.Add(gap * 1000);
            }

            e2els.Add(o.Latency * 1000);
            if (MeetsSlos(o, options.Slos))
            {
                report.GoodCount++;
            }
        }

        var duration = Math.Max(run.Duration, 1e-9);
        var m = report.Metrics;
        m["duration"] = run.Duration;
        m["completed"] = report.Completed;
        m["failed"] = report.Failed;
        m["rate_limited"] = report.RateLimited;
        m["total_input_tokens"] = input;
        m["total_output_tokens"] = output;
        m["total_cached_tokens"] = cached;
        m["request_throughput"] = report.Completed / duration;
        m["request_goodput"] = options.Slos.Count > 0 ? report.GoodCount / duration : double.NaN;
        m["output_throughput"] = output / duration;
        m["total_token_throughput"] = (input + output) / duration;
        m["cached_token_fraction"] = input > 0 ? (double)cached / input : 0;
        m["max_output_tokens_per_s"] = MaxOutputTokensPerSecond(run);
        m["max_concurrent_requests"] = MaxConcurrentRequests(run);
        Add(m, "ttft", ttfts, options.Percentiles);
        Add(m, "tpot", tpots, options.Percentiles);
        Add(m, "itl", itls, options.Percentiles);
        Add(m, "e2el", e2els, options.Percentiles);
        // Multi-turn workloads: mean TTFT of each turn, where caching shows (later turns carry more history).
        foreach (var turn in run.Outcomes.Where(o => o.Success && o.Turn > 0).GroupBy(o => o.Turn).OrderBy(g => g.Key))
        {
            m[$"mean_ttft_ms_turn_{turn.Key}"] = turn.Average(o => o.Ttft * 1000);
        }

        if (run.MetricDeltas.TryGetValue("vllm:prefix_cache_queries_total", out var queries) && run.MetricDeltas.TryGetValue("vllm:prefix_cache_hits_total", out var hits))
        {
            m["server_prefix_cache_queries"] = queries;
            m["server_prefix_cache_hits"] = hits;
            m["server_prefix_cache_hit_rate"] = queries > 0 ? hits / queries : 0;
        }

        if (run.MetricDeltas.TryGetValue("vllm:num_preemptions_total", out var preemptions))
        {
            m["server_preemptions"] = preemptions;
        }

        if (run.MetricSamples.Count > 0)
        {
            var peak = 0.0;
            foreach (var s in run.MetricSamples)
            {
                peak = Math.Max(peak, s.KvCacheUsage);
            }

            m["server_peak_kv_cache_usage"] = peak;
        }

        return report;
    }

    /// <summary>Whether a successful request meets every SLO (milliseconds).</summary>
    public static bool MeetsSlos(RequestOutcome outcome, IReadOnlyDictionary<string, double> slos)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(slos);
        return outcome.Success
            && (!slos.TryGetValue("ttft", out var ttft) || outcome.Ttft * 1000 <= ttft)
            && (!slos.TryGetValue("tpot", out var tpot) || outcome.Tpot * 1000 <= tpot)
            && (!slos.TryGetValue("e2el", out var e2el) || outcome.Latency * 1000 <= e2el);
    }

    /// <summary>The most output tokens that arrived within one whole second of the run (vLLM's 1-second buckets).</summary>
    public static double MaxOutputTokensPerSecond(BenchRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var buckets = new double[(int)Math.Ceiling(Math.Max(run.Duration, 0)) + 2];
        foreach (var o in run.Outcomes)
        {
            if (!o.Success)
            {
                continue;
            }

            // Tokens are spread evenly over the request's text chunks (a chunk may carry several tokens).
            var perChunk = (double)o.OutputTokens / (o.Itls.Length + 1);
            var t = o.StartSeconds + o.Ttft;
            buckets[Math.Clamp((int)t, 0, buckets.Length - 1)] += perChunk;
            foreach (var gap in o.Itls)
            {
                t += gap;
                buckets[Math.Clamp((int)t, 0, buckets.Length - 1)] += perChunk;
            }
        }

        var max = 0.0;
        foreach (var b in buckets)
        {
            max = Math.Max(max, b);
        }

        return Math.Round(max, 6);
    }

    /// <summary>The most requests in flight at once (successful ones, from their send and end times).</summary>
    public static int MaxConcurrentRequests(BenchRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var events = new List<(double Time, int Delta)>();
        foreach (var o in run.Outcomes)
        {
            if (o.Success)
            {
                events.Add((o.StartSeconds, 1));
                events.Add((o.StartSeconds + o.Latency, -1));
            }
        }

        // Ends sort before starts at the same instant.
        events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Delta.CompareTo(b.Delta));
        int current = 0, max = 0;
        foreach (var (_, delta) in events)
        {
            current += delta;
            max = Math.Max(max, current);
        }

        return max;
    }

    private static void Add(Dictionary<string, double> m, string name, List<double> values, IReadOnlyList<double> percentiles)
    {
        values.Sort();
        m[$"mean_{name}_ms"] = LatencyStats.Mean(values);
        m[$"median_{name}_ms"] = LatencyStats.Percentile(values, 50);
        m[$"std_{name}_ms"] = LatencyStats.Std(values);
        foreach (var p in percentiles)
        {
            m[$"{LatencyStats.Key(p)}_{name}_ms"] = LatencyStats.Percentile(values, p);
        }
    }
}
