using Kvasir.Model.Sampling;

namespace Kvasir.Engine;

/// <summary>A generation request as it enters the engine: already tokenized and validated at the edge.</summary>
public sealed record EngineRequest
{
    /// <summary>Unique id among live requests; must not contain '#'.</summary>
    public required string RequestId { get; init; }

    /// <summary>The prompt's token ids (chat template already applied).</summary>
    public required int[] PromptTokenIds { get; init; }

    /// <summary>Sampling parameters; MaxTokens, stop tokens and stop strings included.</summary>
    public required SamplingParams Sampling { get; init; }

    /// <summary>Number of completions to generate from the prompt (OpenAI's n).</summary>
    public int N { get; init; } = 1;

    /// <summary>The tenant's cache salt, decided by the server (never by the client): requests of different salts never share KV.</summary>
    public string? CacheSalt { get; init; }

    /// <summary>Scheduling priority; lower runs first.</summary>
    public int Priority { get; init; }

    /// <summary>Whether the text of special (control) tokens is left out of the output text.</summary>
    public bool SkipSpecialTokens { get; init; } = true;
}
