using System.Text.Json;
using Kvasir.Engine;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Server.Protocol;

/// <summary>
/// Chat completions: <c>chat.completion</c> with <c>choices[].message</c>, streamed as <c>chat.completion.chunk</c>
/// with <c>choices[].delta</c>; logprobs as <c>{"content": [{"token", "logprob", "bytes", "top_logprobs"}]}</c>.
/// </summary>
public sealed class ChatCompletionFormat(string id, string model, Tokenizer tokenizer, int n, bool logprobs)
    : CompletionFormat(id, model, tokenizer, n)
{
    /// <inheritdoc />
    public override bool HasOpeningChunks => true;

    /// <inheritdoc />
    public override void WriteOpeningChunk(Utf8JsonWriter json, int index, bool includeUsageField)
    {
        ArgumentNullException.ThrowIfNull(json);
        WriteChunkStart(json, index);
        json.WriteStartObject("delta");
        json.WriteString("role", "assistant");
        json.WriteString("content", string.Empty);
        json.WriteEndObject();
        json.WriteNull("logprobs");
        WriteChunkEnd(json, null, includeUsageField);
    }

    /// <inheritdoc />
    protected override void WriteChunkChoice(Utf8JsonWriter json, TokenDelta delta)
    {
        json.WriteStartObject("delta");
        if (delta.Text.Length > 0 || delta.Finish is null)
        {
            json.WriteString("content", delta.Text);
        }

        json.WriteEndObject();
        if (logprobs && delta.Logprobs is { Length: > 0 } lp)
        {
            json.WriteStartObject("logprobs");
            WriteContent(json, lp);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("logprobs");
        }
    }

    /// <inheritdoc />
    protected override string ChunkObject => "chat.completion.chunk";

    /// <inheritdoc />
    protected override string ResponseObject => "chat.completion";

    /// <inheritdoc />
    protected override void WriteResponseChoice(Utf8JsonWriter json, ChoiceResult choice)
    {
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        json.WriteString("content", choice.Text.ToString());
        json.WriteEndObject();
        if (logprobs)
        {
            json.WriteStartObject("logprobs");
            WriteContent(json, choice.Logprobs);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("logprobs");
        }
    }

    private void WriteContent(Utf8JsonWriter json, IReadOnlyList<TokenLogprob> tokens)
    {
        json.WriteStartArray("content");
        foreach (var t in tokens)
        {
            json.WriteStartObject();
            WriteToken(json, t.TokenId, t.Logprob);
            json.WriteStartArray("top_logprobs");
            foreach (var (id, lp) in t.Top)
            {
                json.WriteStartObject();
                WriteToken(json, id, lp);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private void WriteToken(Utf8JsonWriter json, int tokenId, float logprob)
    {
        var bytes = Tokenizer.TokenBytes(tokenId);
        json.WriteString("token", System.Text.Encoding.UTF8.GetString(bytes));
        json.WriteNumber("logprob", Finite(logprob));
        json.WriteStartArray("bytes");
        foreach (var b in bytes)
        {
            json.WriteNumberValue(b);
        }

        json.WriteEndArray();
    }
}
