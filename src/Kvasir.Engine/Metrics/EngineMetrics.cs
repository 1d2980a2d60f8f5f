using System.Diagnostics.Metrics;

namespace Kvasir.Engine.Metrics;

/// <summary>
/// The engine's metrics, published two ways: through System.Diagnostics.Metrics (meter "Kvasir.Engine",
/// for OpenTelemetry and dotnet-counters) and as plain thread-safe values that the server's /metrics
/// endpoint renders in Prometheus text under vLLM's names. Written by the engine thread only.
/// </summary>
public sealed class EngineMetrics : IDisposable
{
    private static readonly double[] LatencyBounds = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
    private static readonly double[] TokenBounds = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];
    private readonly Meter _meter;
    private long _running;
    private long _waiting;
    private long _kvUsageBits;
    private long _prefixQueries;
    private long _prefixHits;
    private long _preemptions;
    private long _promptTokens;
    private long _generationTokens;
    private long _requestsStopped;
    private long _requestsLength;
    private long _requestsAborted;

    /// <summary>Creates the instruments.</summary>
    public EngineMetrics(string modelName)
    {
        ModelName = modelName;
        _meter = new Meter("Kvasir.Engine");
        _meter.CreateObservableGauge("kvasir.requests.running", () => NumRequestsRunning, description: "Requests in the running set.");
        _meter.CreateObservableGauge("kvasir.requests.waiting", () => NumRequestsWaiting, description: "Requests waiting to be scheduled.");
        _meter.CreateObservableGauge("kvasir.kv_cache.usage", () => KvCacheUsage, description: "Fraction of KV blocks in use (0..1).");
        _meter.CreateObservableCounter("kvasir.prefix_cache.queries", () => PrefixCacheQueries, "tokens", "Prompt tokens looked up in the prefix cache.");
        _meter.CreateObservableCounter("kvasir.prefix_cache.hits", () => PrefixCacheHits, "tokens", "Prompt tokens whose KV was reused.");
        _meter.CreateObservableCounter("kvasir.preemptions", () => NumPreemptions, description: "Requests preempted (KV freed, recomputed later).");
        _meter.CreateObservableCounter("kvasir.tokens.prompt", () => PromptTokens, "tokens", "Prompt tokens computed.");
        _meter.CreateObservableCounter("kvasir.tokens.generation", () => GenerationTokens, "tokens", "Tokens generated.");
        TimeToFirstToken = new LatencyHistogram("time_to_first_token_seconds", "Time to first token.", LatencyBounds);
        TimePerOutputToken = new LatencyHistogram("time_per_output_token_seconds", "Time per output token after the first.", LatencyBounds);
        E2eLatency = new LatencyHistogram("e2e_request_latency_seconds", "End-to-end request latency.", LatencyBounds);
        TokensPerStep = new LatencyHistogram("iteration_tokens_total", "Tokens run per engine step.", TokenBounds);
        _ttft = _meter.CreateHistogram<double>("kvasir.time_to_first_token", "s");
        _tpot = _meter.CreateHistogram<double>("kvasir.time_per_output_token", "s");
        _e2e = _meter.CreateHistogram<double>("kvasir.e2e_request_latency", "s");
        _stepTokens = _meter.CreateHistogram<int>("kvasir.step.tokens", "tokens");
    }

    private readonly Histogram<double> _ttft;
    private readonly Histogram<double> _tpot;
    private readonly Histogram<double> _e2e;
    private readonly Histogram<int> _stepTokens;

    /// <summary>The served model's name (a label on every exported metric).</summary>
    public string ModelName { get; }

    /// <summary>Requests running.</summary>
    public long NumRequestsRunning => Interlocked.Read(ref _running);

    /// <summary>Requests waiting.</summary>
    public long NumRequestsWaiting => Interlocked.Read(ref _waiting);

    /// <summary>KV usage, 0..1.</summary>
    public double KvCacheUsage => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _kvUsageBits));

    /// <summary>Prompt tokens looked up in the prefix cache (vllm:prefix_cache_queries).</summary>
    public long PrefixCacheQueries => Interlocked.Read(ref _prefixQueries);

    /// <summary>Prompt tokens found in the prefix cache (vllm:prefix_cache_hits).</summary>
    public long PrefixCacheHits => Interlocked.Read(ref _prefixHits);

    /// <summary>Preemptions (vllm:num_preemptions).</summary>
    public long NumPreemptions => Interlocked.Read(ref _preemptions);

    /// <summary>Prompt tokens (vllm:prompt_tokens).</summary>
    public long PromptTokens => Interlocked.Read(ref _promptTokens);

    /// <summary>Generated tokens (vllm:generation_tokens).</summary>
    public long GenerationTokens => Interlocked.Read(ref _generationTokens);

    /// <summary>Finished requests by reason (vllm:request_success with finished_reason).</summary>
    public (long Stop, long Length, long Abort) RequestsFinished => (Interlocked.Read(ref _requestsStopped), Interlocked.Read(ref _requestsLength), Interlocked.Read(ref _requestsAborted));

    /// <summary>TTFT histogram.</summary>
    public LatencyHistogram TimeToFirstToken { get; }

    /// <summary>TPOT histogram.</summary>
    public LatencyHistogram TimePerOutputToken { get; }

    /// <summary>End-to-end latency histogram.</summary>
    public LatencyHistogram E2eLatency { get; }

    /// <summary>Tokens per step histogram.</summary>
    public LatencyHistogram TokensPerStep { get; }

    /// <summary>Every histogram, for exporters.</summary>
    public IEnumerable<LatencyHistogram> Histograms => [TimeToFirstToken, TimePerOutputToken, E2eLatency, TokensPerStep];

    internal void SetGauges(int running, int waiting, double kvUsage)
    {
        Interlocked.Exchange(ref _running, running);
        Interlocked.Exchange(ref _waiting, waiting);
        Interlocked.Exchange(ref _kvUsageBits, BitConverter.DoubleToInt64Bits(kvUsage));
    }

    internal void SetCounters(long prefixQueries, long prefixHits, long preemptions)
    {
        Interlocked.Exchange(ref _prefixQueries, prefixQueries);
        Interlocked.Exchange(ref _prefixHits, prefixHits);
        Interlocked.Exchange(ref _preemptions, preemptions);
    }

    internal void AddTokens(int prompt, int generation)
    {
        Interlocked.Add(ref _promptTokens, prompt);
        Interlocked.Add(ref _generationTokens, generation);
    }

    internal void RecordFinished(Generation.FinishReason reason)
    {
        switch (reason)
        {
            case Generation.FinishReason.Stop: Interlocked.Increment(ref _requestsStopped); break;
            case Generation.FinishReason.Length: Interlocked.Increment(ref _requestsLength); break;
            default: Interlocked.Increment(ref _requestsAborted); break;
        }
    }

    internal void RecordTimeToFirstToken(double seconds)
    {
        TimeToFirstToken.Observe(seconds);
        _ttft.Record(seconds);
    }

    internal void RecordTimePerOutputToken(double seconds)
    {
        TimePerOutputToken.Observe(seconds);
        _tpot.Record(seconds);
    }

    internal void RecordE2eLatency(double seconds)
    {
        E2eLatency.Observe(seconds);
        _e2e.Record(seconds);
    }

    internal void RecordStepTokens(int tokens)
    {
        TokensPerStep.Observe(tokens);
        _stepTokens.Record(tokens);
    }

    /// <summary>Disposes the meter.</summary>
    public void Dispose() => _meter.Dispose();
}
