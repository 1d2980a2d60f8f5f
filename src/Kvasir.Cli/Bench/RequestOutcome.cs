namespace Kvasir.Cli.Bench;

/// <summary>What one benchmark request measured. Times are seconds; a failed request has only its status and error.</summary>
public sealed record RequestOutcome
{
    /// <summary>Whether the stream completed with a 2xx status.</summary>
    public required bool Success { get; init; }

    /// <summary>The request's conversation turn (1-based) in a multi-turn workload; 0 elsewhere.</summary>
    public int Turn { get; init; }

    /// <summary>The HTTP status (0 when the connection failed).</summary>
    public int Status { get; init; }

    /// <summary>The error message of a failed request.</summary>
    public string? Error { get; init; }

    /// <summary>When the request was sent, in seconds from the start of the run.</summary>
    public double StartSeconds { get; init; }

    /// <summary>Time to the first content chunk.</summary>
    public double Ttft { get; init; }

    /// <summary>Gaps between consecutive content chunks.</summary>
    public double[] Itls { get; init; } = [];

    /// <summary>Time from sending to the end of the stream.</summary>
    public double Latency { get; init; }

    /// <summary>Prompt tokens (the server's usage, else the estimate).</summary>
    public int PromptTokens { get; init; }

    /// <summary>Generated tokens (the server's usage, else the requested count).</summary>
    public int OutputTokens { get; init; }

    /// <summary>Prompt tokens the server took from its prefix cache (usage.prompt_tokens_details.cached_tokens).</summary>
    public int CachedTokens { get; init; }

    /// <summary>The text the server streamed.</summary>
    public string GeneratedText { get; init; } = "";

    /// <summary>Time per output token after the first: (latency − TTFT) / (output tokens − 1), or 0 for one token.</summary>
    public double Tpot => OutputTokens > 1 ? (Latency - Ttft) / (OutputTokens - 1) : 0;
}
