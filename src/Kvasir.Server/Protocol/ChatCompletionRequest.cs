using System.Text;
using System.Text.Json;
using Kvasir.Model.ChatTemplates;

namespace Kvasir.Server.Protocol;

/// <summary>A parsed and validated <c>POST /v1/chat/completions</c> body.</summary>
public sealed record ChatCompletionRequest
{
    /// <summary>The conversation as the chat template sees it (developer messages become system messages).</summary>
    public required IReadOnlyList<ChatMessage> Messages { get; init; }

    /// <summary>The shared generation fields.</summary>
    public required GenerationFields Generation { get; init; }

    /// <summary>logprobs: report the sampled tokens' log-probabilities.</summary>
    public bool Logprobs { get; init; }

    /// <summary>top_logprobs: alternatives per token (0..20), with <see cref="Logprobs"/>.</summary>
    public int TopLogprobs { get; init; }

    /// <summary>Append the assistant header (vLLM's add_generation_prompt, default true).</summary>
    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>Let the model continue the last (assistant) message instead of starting a new one (vLLM's continue_final_message).</summary>
    public bool ContinueFinalMessage { get; init; }

    /// <summary>Extra template variables (vLLM's chat_template_kwargs), or null.</summary>
    public IReadOnlyDictionary<string, object?>? TemplateVariables { get; init; }

    /// <summary>Parses a request object.</summary>
    /// <exception cref="ApiException">A field is missing, has the wrong type, or is out of range.</exception>
    public static ChatCompletionRequest Parse(JsonElement root)
    {
        var logprobs = JsonFields.Bool(root, "logprobs") ?? false;
        var top = JsonFields.Int(root, "top_logprobs", 0, Kvasir.Model.Sampling.SamplingParams.MaxLogprobs);
        if (top is > 0 && !logprobs)
        {
            throw ApiException.BadRequest("top_logprobs needs logprobs set to true.", "top_logprobs");
        }

        RejectUnsupported(root);
        var addGenerationPrompt = JsonFields.Bool(root, "add_generation_prompt");
        var continueFinal = JsonFields.Bool(root, "continue_final_message") ?? false;
        if (continueFinal && addGenerationPrompt is true)
        {
            throw ApiException.BadRequest("continue_final_message and add_generation_prompt cannot both be true.", "continue_final_message");
        }

        var messages = ParseMessages(root);
        if (continueFinal && messages[^1].Role != "assistant")
        {
            throw ApiException.BadRequest("continue_final_message needs the last message to be an assistant message.", "continue_final_message");
        }

        return new ChatCompletionRequest
        {
            Messages = messages,
            Generation = GenerationFields.Parse(root, logprobs ? top ?? 0 : null),
            Logprobs = logprobs,
            TopLogprobs = top ?? 0,
            AddGenerationPrompt = (addGenerationPrompt ?? true) && !continueFinal,
            ContinueFinalMessage = continueFinal,
            TemplateVariables = ParseTemplateVariables(root),
        };
    }

    /// <summary>Parses the messages array (also used by /tokenize).</summary>
    /// <exception cref="ApiException">The array is missing or empty, or a message is malformed.</exception>
    public static List<ChatMessage> ParseMessages(JsonElement root)
    {
        if (!JsonFields.TryGet(root, "messages", out var array))
        {
            throw ApiException.BadRequest("messages is required: an array of {\"role\", \"content\"} objects.", "messages");
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw JsonFields.WrongType("messages", "an array of message objects", array);
        }

        var messages = new List<ChatMessage>(array.GetArrayLength());
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            messages.Add(ParseMessage(item, $"messages[{i}]"));
            i++;
        }

        if (messages.Count == 0)
        {
            throw ApiException.BadRequest("messages must contain at least one message.", "messages");
        }

        return messages;
    }

    /// <summary>Parses chat_template_kwargs (also used by /tokenize).</summary>
    public static Dictionary<string, object?>? ParseTemplateVariables(JsonElement root)
    {
        if (JsonFields.TryGet(root, "chat_template", out _))
        {
            throw ApiException.BadRequest("chat_template in a request is not accepted: start the server with --chat-template FILE.", "chat_template");
        }

        if (!JsonFields.TryGet(root, "chat_template_kwargs", out var kwargs))
        {
            return null;
        }

        if (kwargs.ValueKind != JsonValueKind.Object)
        {
            throw JsonFields.WrongType("chat_template_kwargs", "an object", kwargs);
        }

        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var p in kwargs.EnumerateObject())
        {
            variables[p.Name] = p.Value.Clone();
        }

        return variables;
    }

    private static ChatMessage ParseMessage(JsonElement item, string path)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw JsonFields.WrongType(path, "a message object", item);
        }

        var role = JsonFields.String(item, "role", path + ".role")
            ?? throw ApiException.BadRequest($"{path}.role is required.", path + ".role");
        var templateRole = role switch
        {
            "system" or "user" or "assistant" or "tool" => role,
            "developer" => "system",
            _ => throw ApiException.BadRequest($"{path}.role '{role}' is not a known role: use system, developer, user, assistant or tool.", path + ".role"),
        };
        var content = ParseContent(item, path, nullable: role is "assistant" or "tool");
        Dictionary<string, object?>? fields = null;
        foreach (var name in (ReadOnlySpan<string>)["name", "tool_call_id", "tool_calls", "reasoning_content"])
        {
            if (JsonFields.TryGet(item, name, out var value))
            {
                (fields ??= new(StringComparer.Ordinal))[name] = value.Clone();
            }
        }

        return new ChatMessage(templateRole, content) { Fields = fields };
    }

    private static string ParseContent(JsonElement item, string path, bool nullable)
    {
        var contentPath = path + ".content";
        if (!JsonFields.TryGet(item, "content", out var content))
        {
            return nullable ? string.Empty : throw ApiException.BadRequest($"{contentPath} is required: a string or an array of text parts.", contentPath);
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw JsonFields.WrongType(contentPath, "a string or an array of content parts", content);
        }

        var text = new StringBuilder();
        var i = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partPath = $"{contentPath}[{i}]";
            if (part.ValueKind != JsonValueKind.Object)
            {
                throw JsonFields.WrongType(partPath, "a content part object", part);
            }

            var type = JsonFields.String(part, "type", partPath + ".type")
                ?? throw ApiException.BadRequest($"{partPath}.type is required.", partPath + ".type");
            switch (type)
            {
                case "text":
                    text.Append(JsonFields.String(part, "text", partPath + ".text")
                        ?? throw ApiException.BadRequest($"{partPath}.text is required.", partPath + ".text"));
                    break;
                case "refusal":
                    text.Append(JsonFields.String(part, "refusal", partPath + ".refusal"));
                    break;
                default:
                    throw ApiException.BadRequest($"{partPath}.type '{type}' is not supported: this server takes text parts only.", partPath + ".type");
            }

            i++;
        }

        return text.ToString();
    }

    private static void RejectUnsupported(JsonElement root)
    {
        if (JsonFields.TryGet(root, "tools", out var tools) && (tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() > 0))
        {
            throw ApiException.BadRequest("tools (function calling) are not supported by this server yet.", "tools");
        }

        if (JsonFields.TryGet(root, "functions", out var functions) && (functions.ValueKind != JsonValueKind.Array || functions.GetArrayLength() > 0))
        {
            throw ApiException.BadRequest("functions (function calling) are not supported by this server yet.", "functions");
        }

        if (JsonFields.TryGet(root, "response_format", out var format))
        {
            if (format.ValueKind != JsonValueKind.Object)
            {
                throw JsonFields.WrongType("response_format", "an object", format);
            }

            var type = JsonFields.String(format, "type", "response_format.type");
            if (type is not null and not "text")
            {
                throw ApiException.BadRequest($"response_format type '{type}' is not supported by this server yet: only 'text'.", "response_format");
            }
        }

        if (JsonFields.TryGet(root, "audio", out _) || (JsonFields.TryGet(root, "modalities", out var m) && m.ValueKind == JsonValueKind.Array
            && m.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String || x.GetString() != "text")))
        {
            throw ApiException.BadRequest("audio output is not supported: this server generates text only.", "modalities");
        }
    }
}
