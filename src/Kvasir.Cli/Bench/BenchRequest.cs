namespace Kvasir.Cli.Bench;

/// <summary>
/// One request of a benchmark workload: the prompt as chat messages (the completions endpoint joins their contents
/// with newlines), the estimated prompt length, the exact number of tokens to generate, and for trace replay the
/// arrival time in the trace.
/// </summary>
/// <param name="Messages">The prompt; a completions request sends the contents joined by newlines.</param>
/// <param name="PromptLen">Estimated prompt tokens (the server's usage gives the exact count).</param>
/// <param name="OutputLen">Tokens to generate (`max_tokens`).</param>
/// <param name="ArrivalSeconds">Seconds from the start of the trace, or null when the arrival process decides.</param>
public sealed record BenchRequest(IReadOnlyList<BenchMessage> Messages, int PromptLen, int OutputLen, double? ArrivalSeconds = null)
{
    /// <summary>The turn of its conversation (1-based) for multi-turn workloads; 0 elsewhere.</summary>
    public int Turn { get; init; }

    /// <summary>
    /// For a multi-turn request after the first turn: the index (in the workload) of the same conversation's previous
    /// turn, which must have finished before this one is sent; -1 elsewhere.
    /// </summary>
    public int After { get; init; } = -1;

    /// <summary>The prompt text of a completions request.</summary>
    public string PromptText => Messages.Count == 1 ? Messages[0].Content : string.Join("\n", Messages.Select(m => m.Content));

    /// <summary>A request with one user message.</summary>
    public static BenchRequest User(string text, int promptLen, int outputLen, double? arrivalSeconds = null) =>
        new([new BenchMessage("user", text)], promptLen, outputLen, arrivalSeconds);
}
