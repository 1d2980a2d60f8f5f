using System.Text.Json;
using Kvasir.Model.Sampling;

namespace Kvasir.Server.Protocol;

/// <summary>A parsed and validated <c>POST /v1/completions</c> body.</summary>
public sealed record CompletionRequest
{
    /// <summary>The prompt text, or null when <see cref="PromptTokenIds"/> is given.</summary>
    public string? Prompt { get; init; }

    /// <summary>The prompt as token ids, or null when <see cref="Prompt"/> is given.</summary>
    public int[]? PromptTokenIds { get; init; }

    /// <summary>The shared generation fields.</summary>
    public required GenerationFields Generation { get; init; }

    /// <summary>logprobs: null for none, else how many alternatives per token (0..20).</summary>
    public int? Logprobs { get; init; }

    /// <summary>Add BOS (and EOS where the vocabulary asks) to a text prompt (vLLM's add_special_tokens, default true).</summary>
    public bool AddSpecialTokens { get; init; } = true;

    /// <summary>Parses a request object.</summary>
    /// <exception cref="ApiException">A field is missing, has the wrong type, or is out of range.</exception>
    public static CompletionRequest Parse(JsonElement root)
    {
        if (JsonFields.Bool(root, "echo") is true)
        {
            throw ApiException.BadRequest("echo is not supported by this server.", "echo");
        }

        if (JsonFields.String(root, "suffix") is { Length: > 0 })
        {
            throw ApiException.BadRequest("suffix is not supported by this server.", "suffix");
        }

        var logprobs = JsonFields.Int(root, "logprobs", 0, SamplingParams.MaxLogprobs);
        var generation = GenerationFields.Parse(root, logprobs);
        if (JsonFields.Int(root, "best_of", 1, GenerationFields.MaxN) is int bestOf && bestOf != generation.N)
        {
            throw ApiException.BadRequest($"best_of ({bestOf}) different from n ({generation.N}) is not supported by this server.", "best_of");
        }

        var (text, ids) = ParsePrompt(root);
        return new CompletionRequest
        {
            Prompt = text,
            PromptTokenIds = ids,
            Generation = generation,
            Logprobs = logprobs,
            AddSpecialTokens = JsonFields.Bool(root, "add_special_tokens") ?? true,
        };
    }

    private static (string? Text, int[]? Ids) ParsePrompt(JsonElement root)
    {
        if (!JsonFields.TryGet(root, "prompt", out var prompt))
        {
            throw ApiException.BadRequest("prompt is required: a string or an array of token ids.", "prompt");
        }

        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                return (prompt.GetString()!, null);
            case JsonValueKind.Array:
                var length = prompt.GetArrayLength();
                if (length == 0)
                {
                    throw ApiException.BadRequest("prompt must not be an empty array.", "prompt");
                }

                var first = prompt[0];
                if (first.ValueKind == JsonValueKind.Number)
                {
                    return (null, ReadTokenIds(prompt, "prompt"));
                }

                if (length > 1)
                {
                    throw ApiException.BadRequest($"prompt holds {length} prompts; this server takes one prompt per request (use n for several completions of it).", "prompt");
                }

                return first.ValueKind switch
                {
                    JsonValueKind.String => (first.GetString()!, null),
                    JsonValueKind.Array => (null, ReadTokenIds(first, "prompt[0]")),
                    _ => throw JsonFields.WrongType("prompt[0]", "a string or an array of token ids", first),
                };
            default:
                throw JsonFields.WrongType("prompt", "a string or an array of token ids", prompt);
        }
    }

    private static int[] ReadTokenIds(JsonElement array, string path)
    {
        var ids = new int[array.GetArrayLength()];
        if (ids.Length == 0)
        {
            throw ApiException.BadRequest($"{path} must not be an empty array.", path);
        }

        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            ids[i] = JsonFields.Int(item, 0, int.MaxValue, $"{path}[{i}]");
            i++;
        }

        return ids;
    }
}
