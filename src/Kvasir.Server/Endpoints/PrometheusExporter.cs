using System.Globalization;
using System.Text;
using Kvasir.Engine;
using Kvasir.Engine.Metrics;

namespace Kvasir.Server.Endpoints;

/// <summary>
/// <c>GET /metrics</c>: the engine's metrics in Prometheus text format (version 0.0.4) under vLLM's names, each
/// with a <c>model_name</c> label, so dashboards and autoscalers built for vLLM read Kvasir unchanged.
/// Counters carry the <c>_total</c> suffix as prometheus_client writes them.
/// </summary>
internal static class PrometheusExporter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(LlmEngine engine)
    {
        var m = engine.Metrics;
        var label = $"model_name=\"{Escape(m.ModelName)}\"";
        var s = new StringBuilder(8192);
        Gauge(s, "vllm:num_requests_running", "Requests in the running batch.", label, m.NumRequestsRunning);
        Gauge(s, "vllm:num_requests_waiting", "Requests waiting to be scheduled.", label, m.NumRequestsWaiting);
        Gauge(s, "vllm:kv_cache_usage_perc", "Fraction of KV-cache blocks in use (1 = all).", label, m.KvCacheUsage);
        Counter(s, "vllm:prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.", label, m.PrefixCacheQueries);
        Counter(s, "vllm:prefix_cache_hits_total", "Prompt tokens found in the prefix cache.", label, m.PrefixCacheHits);
        Counter(s, "vllm:num_preemptions_total", "Requests preempted (KV freed, recomputed later).", label, m.NumPreemptions);
        Counter(s, "vllm:prompt_tokens_total", "Prompt tokens processed.", label, m.PromptTokens);
        Counter(s, "vllm:generation_tokens_total", "Tokens generated.", label, m.GenerationTokens);

        var (stop, length, abort) = m.RequestsFinished;
        Header(s, "vllm:request_success_total", "Finished requests by finish reason.", "counter");
        Sample(s, "vllm:request_success_total", $"{label},finished_reason=\"stop\"", stop);
        Sample(s, "vllm:request_success_total", $"{label},finished_reason=\"length\"", length);
        Sample(s, "vllm:request_success_total", $"{label},finished_reason=\"abort\"", abort);

        Histogram(s, "vllm:time_to_first_token_seconds", "Time to first token, seconds.", label, m.TimeToFirstToken);
        Histogram(s, "vllm:time_per_output_token_seconds", "Time per output token after the first, seconds.", label, m.TimePerOutputToken);
        Histogram(s, "vllm:e2e_request_latency_seconds", "End-to-end request latency, seconds.", label, m.E2eLatency);
        Histogram(s, "vllm:iteration_tokens_total", "Tokens run per engine step.", label, m.TokensPerStep);

        Gauge(s, "kvasir:kv_cache_blocks", "Blocks in the KV arena.", label, engine.NumBlocks);
        Gauge(s, "kvasir:kv_cache_free_blocks", "KV blocks held by no request (cached ones included).", label, engine.NumFreeBlocks);
        return s.ToString();
    }

    private static void Gauge(StringBuilder s, string name, string help, string labels, double value)
    {
        Header(s, name, help, "gauge");
        Sample(s, name, labels, value);
    }

    private static void Counter(StringBuilder s, string name, string help, string labels, double value)
    {
        Header(s, name, help, "counter");
        Sample(s, name, labels, value);
    }

    private static void Histogram(StringBuilder s, string name, string help, string labels, LatencyHistogram h)
    {
        Header(s, name, help, "histogram");
        var (cumulative, sum, count) = h.Snapshot();
        var bounds = h.Bounds;
        for (var i = 0; i < cumulative.Length; i++)
        {
            var le = i < bounds.Count ? Number(bounds[i]) : "+Inf";
            Sample(s, name + "_bucket", $"{labels},le=\"{le}\"", cumulative[i]);
        }

        Sample(s, name + "_sum", labels, sum);
        Sample(s, name + "_count", labels, count);
    }

    private static void Header(StringBuilder s, string name, string help, string type)
    {
        s.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        s.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static void Sample(StringBuilder s, string name, string labels, double value)
        => s.Append(name).Append('{').Append(labels).Append("} ").Append(Number(value)).Append('\n');

    private static string Number(double value) => double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
