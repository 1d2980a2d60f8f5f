using System.Text.Json;
using Kvasir.Model.Sampling;

namespace Kvasir.Server.Protocol;

/// <summary>
/// The fields chat completions and completions share: model, n, streaming, sampling (OpenAI's and vLLM's extras
/// top_k, min_p, repetition_penalty, ignore_eos, stop_token_ids), limits and scheduling priority. Parsed and
/// range-checked here; <see cref="SamplingParams.MaxTokens"/> is decided later, once the prompt's length is known.
/// </summary>
public sealed record GenerationFields
{
    /// <summary>Largest n accepted (OpenAI's limit).</summary>
    public const int MaxN = 128;

    /// <summary>The model asked for, or null (then the served one).</summary>
    public string? Model { get; init; }

    /// <summary>Sampling parameters (MaxTokens still the default; see <see cref="MaxTokens"/>).</summary>
    public required SamplingParams Sampling { get; init; }

    /// <summary>max_completion_tokens or max_tokens as sent, or null when neither was.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Which field <see cref="MaxTokens"/> came from (for error messages).</summary>
    public string MaxTokensField { get; init; } = "max_tokens";

    /// <summary>Completions per prompt.</summary>
    public int N { get; init; } = 1;

    /// <summary>Stream the answer as server-sent events.</summary>
    public bool Stream { get; init; }

    /// <summary>stream_options.include_usage: a last chunk with the usage.</summary>
    public bool IncludeUsage { get; init; }

    /// <summary>Scheduling priority (vLLM's extra; lower runs first under --policy priority).</summary>
    public int Priority { get; init; }

    /// <summary>OpenAI's end-user id (logged nowhere; accepted for compatibility).</summary>
    public string? User { get; init; }

    /// <summary>Leave the text of special tokens out of the output (vLLM's skip_special_tokens, default true).</summary>
    public bool SkipSpecialTokens { get; init; } = true;

    /// <summary>Parses the shared fields of a request object.</summary>
    /// <param name="root">The request object.</param>
    /// <param name="logprobs">The logprobs setting, parsed by the caller (its shape differs between the two APIs).</param>
    /// <exception cref="ApiException">A field has the wrong type or is out of range.</exception>
    public static GenerationFields Parse(JsonElement root, int? logprobs)
    {
        if (JsonFields.TryGet(root, "cache_salt", out _))
        {
            throw ApiException.BadRequest("cache_salt is decided by the server from your API key (each tenant has its own cache); remove it from the request.", "cache_salt");
        }

        var model = JsonFields.String(root, "model");
        var n = JsonFields.Int(root, "n", 1, MaxN) ?? 1;
        var stream = JsonFields.Bool(root, "stream") ?? false;
        var includeUsage = false;
        if (JsonFields.TryGet(root, "stream_options", out var streamOptions))
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                throw JsonFields.WrongType("stream_options", "an object", streamOptions);
            }

            includeUsage = JsonFields.Bool(streamOptions, "include_usage", "stream_options.include_usage") ?? false;
        }

        var maxField = JsonFields.TryGet(root, "max_completion_tokens", out _) ? "max_completion_tokens" : "max_tokens";
        var maxTokens = JsonFields.Int(root, maxField, 1, int.MaxValue);
        var topK = JsonFields.Int(root, "top_k", -1, int.MaxValue) ?? 0;
        var sampling = new SamplingParams
        {
            Temperature = JsonFields.Float(root, "temperature", 0f, 2f) ?? 1f,
            TopP = JsonFields.Float(root, "top_p", 0f, 1f) ?? 1f,
            TopK = topK < 0 ? 0 : topK,
            MinP = JsonFields.Float(root, "min_p", 0f, 1f) ?? 0f,
            RepetitionPenalty = JsonFields.Float(root, "repetition_penalty", float.Epsilon, float.MaxValue) ?? 1f,
            PresencePenalty = JsonFields.Float(root, "presence_penalty", -2f, 2f) ?? 0f,
            FrequencyPenalty = JsonFields.Float(root, "frequency_penalty", -2f, 2f) ?? 0f,
            LogitBias = ParseLogitBias(root),
            Seed = JsonFields.Seed(root, "seed"),
            Logprobs = logprobs,
            IgnoreEos = JsonFields.Bool(root, "ignore_eos") ?? false,
            StopStrings = ParseStop(root),
            StopTokenIds = ParseIntArray(root, "stop_token_ids"),
        };
        if (sampling.TopP <= 0f)
        {
            throw ApiException.BadRequest($"top_p must be in (0, 1], got {sampling.TopP}.", "top_p");
        }

        return new GenerationFields
        {
            Model = model,
            Sampling = sampling,
            MaxTokens = maxTokens,
            MaxTokensField = maxField,
            N = n,
            Stream = stream,
            IncludeUsage = includeUsage,
            Priority = JsonFields.Int(root, "priority", int.MinValue, int.MaxValue) ?? 0,
            User = JsonFields.String(root, "user"),
            SkipSpecialTokens = JsonFields.Bool(root, "skip_special_tokens") ?? true,
        };
    }

    private static Dictionary<int, float>? ParseLogitBias(JsonElement root)
    {
        if (!JsonFields.TryGet(root, "logit_bias", out var bias))
        {
            return null;
        }

        if (bias.ValueKind != JsonValueKind.Object)
        {
            throw JsonFields.WrongType("logit_bias", "an object mapping token ids to biases", bias);
        }

        var result = new Dictionary<int, float>();
        foreach (var entry in bias.EnumerateObject())
        {
            var path = $"logit_bias[\"{entry.Name}\"]";
            if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var tokenId))
            {
                throw ApiException.BadRequest($"logit_bias keys must be token ids (non-negative integers as strings), got \"{entry.Name}\".", "logit_bias");
            }

            if (entry.Value.ValueKind != JsonValueKind.Number)
            {
                throw JsonFields.WrongType(path, "a number in [-100, 100]", entry.Value);
            }

            var value = entry.Value.GetDouble();
            if (!(value >= -100 && value <= 100))
            {
                throw ApiException.BadRequest($"{path} must be a number in [-100, 100], got {entry.Value.GetRawText()}.", "logit_bias");
            }

            result[tokenId] = (float)value;
        }

        return result;
    }

    private static string[] ParseStop(JsonElement root)
    {
        if (!JsonFields.TryGet(root, "stop", out var stop))
        {
            return [];
        }

        if (stop.ValueKind == JsonValueKind.String)
        {
            var s = stop.GetString()!;
            return s.Length == 0 ? throw ApiException.BadRequest("stop must not be an empty string.", "stop") : [s];
        }

        if (stop.ValueKind != JsonValueKind.Array)
        {
            throw JsonFields.WrongType("stop", "a string or an array of strings", stop);
        }

        var list = new List<string>();
        var i = 0;
        foreach (var item in stop.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw JsonFields.WrongType($"stop[{i}]", "a string", item);
            }

            var s = item.GetString()!;
            if (s.Length == 0)
            {
                throw ApiException.BadRequest($"stop[{i}] must not be an empty string.", "stop");
            }

            list.Add(s);
            i++;
        }

        return [.. list];
    }

    private static int[] ParseIntArray(JsonElement root, string name)
    {
        if (!JsonFields.TryGet(root, name, out var array))
        {
            return [];
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw JsonFields.WrongType(name, "an array of integers", array);
        }

        var result = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            result[i] = JsonFields.Int(item, 0, int.MaxValue, $"{name}[{i}]");
            i++;
        }

        return result;
    }
}
