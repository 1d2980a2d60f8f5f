namespace Kvasir.Cli.Bench;

/// <summary>The workload knobs of `kvasir bench serve` (flag names in comments).</summary>
public sealed record DatasetOptions
{
    /// <summary>`--dataset`: random, shared-prefix, multi-turn, sharegpt, burstgpt, mooncake.</summary>
    public string Name { get; init; } = "random";

    /// <summary>The file of sharegpt, burstgpt and mooncake (`--dataset-path`, or the word after the name).</summary>
    public string? Path { get; init; }

    /// <summary>`--num-prompts`: requests to send (traces: the first ones; shared-prefix: groups × prompts per group).</summary>
    public int NumPrompts { get; init; } = 100;

    /// <summary>`--seed`.</summary>
    public int Seed { get; init; }

    /// <summary>`--random-input-len`.</summary>
    public int RandomInputLen { get; init; } = 1024;

    /// <summary>`--random-output-len`.</summary>
    public int RandomOutputLen { get; init; } = 128;

    /// <summary>`--random-range-ratio`: lengths are uniform in [len × (1 − r), len × (1 + r)].</summary>
    public double RandomRangeRatio { get; init; }

    /// <summary>`--sp-num-groups`.</summary>
    public int SpNumGroups { get; init; } = 64;

    /// <summary>`--sp-prompts-per-group`.</summary>
    public int SpPromptsPerGroup { get; init; } = 16;

    /// <summary>`--sp-system-prompt-len`.</summary>
    public int SpSystemPromptLen { get; init; } = 2048;

    /// <summary>`--sp-question-len`.</summary>
    public int SpQuestionLen { get; init; } = 128;

    /// <summary>`--sp-output-len`.</summary>
    public int SpOutputLen { get; init; } = 256;

    /// <summary>`--mt-turns`: user turns per conversation.</summary>
    public int MtTurns { get; init; } = 4;

    /// <summary>`--mt-user-len`: tokens of each user turn.</summary>
    public int MtUserLen { get; init; } = 64;

    /// <summary>`--mt-output-len`: tokens of each answer (and of the synthetic answer written into the history).</summary>
    public int MtOutputLen { get; init; } = 64;

    /// <summary>`--sharegpt-output-len`: overrides the reply length of ShareGPT conversations.</summary>
    public int? ShareGptOutputLen { get; init; }

    /// <summary>`--mooncake-block-size`: tokens per hash id of a Mooncake trace.</summary>
    public int MooncakeBlockSize { get; init; } = 512;

    /// <summary>`--max-output-len`: clamps every output length of a trace (0: no clamp).</summary>
    public int MaxOutputLen { get; init; }

    /// <summary>`--max-input-len`: clamps every prompt length of a trace (0: no clamp).</summary>
    public int MaxInputLen { get; init; }
}
