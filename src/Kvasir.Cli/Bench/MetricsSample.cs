namespace Kvasir.Cli.Bench;

/// <summary>One scrape of the server's /metrics during a run.</summary>
/// <param name="Seconds">When, from the start of the run.</param>
/// <param name="KvCacheUsage">vllm:kv_cache_usage_perc (0..1).</param>
/// <param name="Running">vllm:num_requests_running.</param>
/// <param name="Waiting">vllm:num_requests_waiting.</param>
public sealed record MetricsSample(double Seconds, double KvCacheUsage, double Running, double Waiting);
