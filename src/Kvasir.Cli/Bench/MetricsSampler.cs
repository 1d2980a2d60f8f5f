using System.Diagnostics;

namespace Kvasir.Cli.Bench;

/// <summary>
/// Scrapes the server's Prometheus /metrics before, during (every interval) and after a run: counter deltas over the
/// run (prefix-cache queries and hits, preemptions, prompt and generation tokens) and the KV-usage timeline.
/// A server without /metrics leaves everything empty.
/// </summary>
public sealed class MetricsSampler
{
    /// <summary>The counters whose change over the run is reported.</summary>
    public static readonly string[] Counters =
    [
        "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:num_preemptions_total",
        "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
    ];

    private readonly OpenAiStreamClient _client;
    private readonly TimeSpan _interval;
    private readonly List<MetricsSample> _samples = [];
    private Dictionary<string, double>? _before;

    /// <summary>Creates a sampler for one server.</summary>
    public MetricsSampler(OpenAiStreamClient client, TimeSpan interval)
    {
        _client = client;
        _interval = interval;
    }

    /// <summary>The KV-usage timeline.</summary>
    public IReadOnlyList<MetricsSample> Samples => _samples;

    /// <summary>Counter deltas over the run (empty when the server has no /metrics).</summary>
    public Dictionary<string, double> Deltas { get; } = new(StringComparer.Ordinal);

    /// <summary>Takes the "before" scrape.</summary>
    public async Task StartAsync(CancellationToken cancellationToken) =>
        _before = await ScrapeAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Samples until <paramref name="stop"/> is cancelled.</summary>
    public async Task SampleAsync(long runStart, CancellationToken stop)
    {
        if (_before is null)
        {
            return;
        }

        while (!stop.IsCancellationRequested)
        {
            var values = await ScrapeAsync(CancellationToken.None).ConfigureAwait(false);
            if (values is not null)
            {
                _samples.Add(new MetricsSample(Stopwatch.GetElapsedTime(runStart).TotalSeconds, values.GetValueOrDefault("vllm:kv_cache_usage_perc"),
                    values.GetValueOrDefault("vllm:num_requests_running"), values.GetValueOrDefault("vllm:num_requests_waiting")));
            }

            try
            {
                await Task.Delay(_interval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Takes the "after" scrape and fills <see cref="Deltas"/>.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (_before is null || await ScrapeAsync(cancellationToken).ConfigureAwait(false) is not { } after)
        {
            return;
        }

        foreach (var name in Counters)
        {
            if (after.TryGetValue(name, out var end))
            {
                Deltas[name] = end - _before.GetValueOrDefault(name);
            }
        }
    }

    private async Task<Dictionary<string, double>?> ScrapeAsync(CancellationToken cancellationToken)
    {
        var text = await _client.GetTextAsync("metrics", cancellationToken).ConfigureAwait(false);
        return text is null ? null : PrometheusText.Parse(text);
    }
}
