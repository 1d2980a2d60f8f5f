namespace Kvasir.Cli.Bench;

/// <summary>How `kvasir bench serve` drives a server (the workload itself is <see cref="DatasetOptions"/>).</summary>
public sealed record BenchOptions
{
    /// <summary>`--endpoint`: chat or completions.</summary>
    public bool Chat { get; init; }

    /// <summary>`--model`; null asks /v1/models.</summary>
    public string? Model { get; init; }

    /// <summary>`--api-key`.</summary>
    public string? ApiKey { get; init; }

    /// <summary>`--request-rate` per second (infinity: all at once).</summary>
    public double RequestRate { get; init; } = double.PositiveInfinity;

    /// <summary>`--burstiness`: gamma shape of the gaps (1: Poisson).</summary>
    public double Burstiness { get; init; } = 1.0;

    /// <summary>`--max-concurrency`: most requests in flight (0: no limit).</summary>
    public int MaxConcurrency { get; init; }

    /// <summary>`--time-scale`: multiplies a trace's timestamps (null: traces use the request rate instead).</summary>
    public double? TimeScale { get; init; }

    /// <summary>`--ignore-eos` (default on): output lengths are exact.</summary>
    public bool IgnoreEos { get; init; } = true;

    /// <summary>`--warmup`: requests sent one at a time before the measured run.</summary>
    public int Warmup { get; init; }

    /// <summary>`--goodput`: SLOs in milliseconds by metric (ttft, tpot, e2el).</summary>
    public IReadOnlyDictionary<string, double> Slos { get; init; } = new Dictionary<string, double>();

    /// <summary>`--percentiles`.</summary>
    public IReadOnlyList<double> Percentiles { get; init; } = [50, 90, 99];

    /// <summary>`--tokens-per-word`: null calibrates with the server's /tokenize.</summary>
    public double? TokensPerWord { get; init; }

    /// <summary>`--metrics-interval` in seconds (0: no sampling during the run).</summary>
    public double MetricsInterval { get; init; } = 0.25;

    /// <summary>`--plot-dir`: where PNG plots go (null: no plots).</summary>
    public string? PlotDirectory { get; init; }

    /// <summary>`--save-detailed`: write the per-request lists (input_lens, ttfts, itls, ...).</summary>
    public bool SaveDetailed { get; init; } = true;
}
