namespace Kvasir.Cli.Bench;

/// <summary>The raw record of one benchmark run against one server.</summary>
public sealed record BenchRun
{
    /// <summary>The server's root address.</summary>
    public required string BaseUrl { get; init; }

    /// <summary>The model name sent.</summary>
    public required string Model { get; init; }

    /// <summary>Outcomes in request order.</summary>
    public required IReadOnlyList<RequestOutcome> Outcomes { get; init; }

    /// <summary>Seconds from the first send to the last response.</summary>
    public required double Duration { get; init; }

    /// <summary>Counter deltas from /metrics (empty without /metrics).</summary>
    public required IReadOnlyDictionary<string, double> MetricDeltas { get; init; }

    /// <summary>The KV-usage timeline from /metrics.</summary>
    public required IReadOnlyList<MetricsSample> MetricSamples { get; init; }

    /// <summary>Tokens per word used to size prompts.</summary>
    public double TokensPerWord { get; init; }
}
