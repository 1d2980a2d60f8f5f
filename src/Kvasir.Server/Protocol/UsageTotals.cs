using Kvasir.Engine;

namespace Kvasir.Server.Protocol;

/// <summary>
/// OpenAI's usage for a whole request: the prompt counted once, the completion tokens of all n choices summed,
/// and the prompt tokens served from the prefix cache (prompt_tokens_details.cached_tokens).
/// </summary>
public sealed class UsageTotals
{
    /// <summary>Prompt tokens.</summary>
    public int PromptTokens { get; private set; }

    /// <summary>Generated tokens over all choices.</summary>
    public int CompletionTokens { get; private set; }

    /// <summary>Prompt tokens whose KV came from the prefix cache.</summary>
    public int CachedTokens { get; private set; }

    /// <summary>Prompt plus completion tokens.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>Creates totals for a prompt of the given length (before any choice has finished).</summary>
    public UsageTotals(int promptTokens)
    {
        PromptTokens = promptTokens;
    }

    /// <summary>Adds the usage reported by one finished choice.</summary>
    public void Add(RequestUsage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        PromptTokens = usage.PromptTokens;
        CompletionTokens += usage.CompletionTokens;
        CachedTokens = Math.Max(CachedTokens, usage.CachedTokens);
    }

    /// <summary>Writes the usage object as the value of a "usage" property.</summary>
    public void Write(System.Text.Json.Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", PromptTokens);
        json.WriteNumber("completion_tokens", CompletionTokens);
        json.WriteNumber("total_tokens", TotalTokens);
        json.WriteStartObject("prompt_tokens_details");
        json.WriteNumber("cached_tokens", CachedTokens);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
