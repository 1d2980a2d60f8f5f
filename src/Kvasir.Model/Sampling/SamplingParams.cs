namespace Kvasir.Model.Sampling;

/// <summary>
/// How one sequence picks its next token and when it stops. Field names and neutral values follow
/// OpenAI's API and vLLM: each option has a value that turns it off, and the defaults are all off
/// except <see cref="Temperature"/> = 1 (plain sampling from the model's distribution).
/// </summary>
/// <remarks>
/// Validate at the edge with <see cref="Validate()"/> (or <see cref="Validate(int)"/> once the vocabulary
/// size is known); <see cref="Sampler"/> throws on parameters that fail it.
/// </remarks>
public sealed record SamplingParams
{
    /// <summary>The largest number of top alternatives <see cref="Logprobs"/> may ask for (OpenAI's top_logprobs limit).</summary>
    public const int MaxLogprobs = 20;

    /// <summary>Parameters for greedy decoding (temperature 0, everything else off).</summary>
    public static SamplingParams Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Softmax temperature in [0, 2]; 0 means greedy (argmax, no random draw). Default 1.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the K most likely tokens; 0 turns it off. Must be ≥ 0.</summary>
    public int TopK { get; init; }

    /// <summary>Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches P; in (0, 1], 1 turns it off.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Keep only tokens whose probability is at least MinP times the most likely token's; in [0, 1], 0 turns it off.</summary>
    public float MinP { get; init; }

    /// <summary>
    /// CTRL / llama.cpp repetition penalty over the last <see cref="RepeatLastN"/> tokens of prompt and output:
    /// a positive logit is divided by it, a negative one multiplied. Must be &gt; 0; 1 turns it off.
    /// </summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>How many of the most recent context tokens (prompt then output) <see cref="RepetitionPenalty"/> looks at; -1 means the whole context, 0 none. Default 64.</summary>
    public int RepeatLastN { get; init; } = 64;

    /// <summary>OpenAI presence penalty in [-2, 2]: subtracted once from the logit of every token that occurs in the output so far. 0 turns it off.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>OpenAI frequency penalty in [-2, 2]: subtracted from a token's logit once per occurrence in the output so far. 0 turns it off.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Token id → bias in [-100, 100] added to its logit before anything else (OpenAI logit_bias; -100 bans a token in practice).</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>Seed of the request's own random generator: the same seed with the same logits gives the same tokens. Null draws a seed from a shared source.</summary>
    public ulong? Seed { get; init; }

    /// <summary>
    /// Log-probabilities to report per sampled token, vLLM's convention: null reports none; 0 reports the sampled
    /// token's log-probability only; N in 1..<see cref="MaxLogprobs"/> also reports the N most likely tokens.
    /// They are raw log-probabilities: log-softmax of the model's logits before bias, penalties, temperature and
    /// truncation (vLLM's default <c>raw_logprobs</c> mode).
    /// </summary>
    public int? Logprobs { get; init; }

    /// <summary>Keep generating after the end-of-sequence token (benchmarks). Stop token ids and stop strings still apply.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Token ids that end the sequence (in addition to the model's end-of-sequence tokens unless <see cref="IgnoreEos"/>).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Strings that end the sequence; the matched string is not part of the output (see <see cref="StopStringMatcher"/>).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>The most tokens to generate; at least 1. Default 16, as OpenAI's completions API and vLLM.</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>Checks every range that does not depend on the model. Returns null when valid, else a message naming the field, its value and the allowed range.</summary>
    public string? Validate()
    {
        if (!(Temperature >= 0f && Temperature <= 2f))
            return $"temperature must be in [0, 2] (0 = greedy), got {Temperature}.";
        if (TopK < 0)
            return $"top_k must be >= 0 (0 = off), got {TopK}.";
        if (!(TopP > 0f && TopP <= 1f))
            return $"top_p must be in (0, 1] (1 = off), got {TopP}.";
        if (!(MinP >= 0f && MinP <= 1f))
            return $"min_p must be in [0, 1] (0 = off), got {MinP}.";
        if (!(RepetitionPenalty > 0f) || float.IsPositiveInfinity(RepetitionPenalty))
            return $"repetition_penalty must be a finite number > 0 (1 = off), got {RepetitionPenalty}.";
        if (RepeatLastN < -1)
            return $"repeat_last_n must be >= -1 (-1 = whole context, 0 = off), got {RepeatLastN}.";
        if (!(PresencePenalty >= -2f && PresencePenalty <= 2f))
            return $"presence_penalty must be in [-2, 2], got {PresencePenalty}.";
        if (!(FrequencyPenalty >= -2f && FrequencyPenalty <= 2f))
            return $"frequency_penalty must be in [-2, 2], got {FrequencyPenalty}.";
        if (Logprobs is int n && (n < 0 || n > MaxLogprobs))
            return $"logprobs must be null (none) or in [0, {MaxLogprobs}], got {n}.";
        if (MaxTokens < 1)
            return $"max_tokens must be >= 1, got {MaxTokens}.";
        if (LogitBias is not null)
        {
            foreach (var (tokenId, bias) in LogitBias)
            {
                if (tokenId < 0)
                    return $"logit_bias key must be a token id >= 0, got {tokenId}.";
                if (!(bias >= -100f && bias <= 100f))
                    return $"logit_bias value for token {tokenId} must be in [-100, 100], got {bias}.";
            }
        }
        for (int i = 0; i < StopTokenIds.Count; i++)
        {
            if (StopTokenIds[i] < 0)
                return $"stop_token_ids[{i}] must be a token id >= 0, got {StopTokenIds[i]}.";
        }
        for (int i = 0; i < StopStrings.Count; i++)
        {
            if (string.IsNullOrEmpty(StopStrings[i]))
                return $"stop[{i}] must be a non-empty string.";
        }
        return null;
    }

    /// <summary>As <see cref="Validate()"/>, and also checks token ids against the model's vocabulary size.</summary>
    /// <param name="vocabSize">Number of logits the model produces.</param>
    public string? Validate(int vocabSize)
    {
        string? error = Validate();
        if (error is not null)
            return error;
        if (LogitBias is not null)
        {
            foreach (var tokenId in LogitBias.Keys)
            {
                if (tokenId >= vocabSize)
                    return $"logit_bias key {tokenId} is not a token id of this model (vocabulary size {vocabSize}).";
            }
        }
        for (int i = 0; i < StopTokenIds.Count; i++)
        {
            if (StopTokenIds[i] >= vocabSize)
                return $"stop_token_ids[{i}] = {StopTokenIds[i]} is not a token id of this model (vocabulary size {vocabSize}).";
        }
        return null;
    }
}
