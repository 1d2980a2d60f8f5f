using System.Text.Json;
using Kvasir.Engine;

namespace Kvasir.Server.Protocol;

/// <summary>
/// Text completions: <c>text_completion</c> with <c>choices[].text</c> (streamed chunks have the same shape);
/// logprobs as <c>{"tokens", "token_logprobs", "top_logprobs", "text_offset"}</c>, where top_logprobs maps each
/// alternative's text to its log-probability and text_offset is each token's character offset in the text.
/// </summary>
public sealed class TextCompletionFormat : CompletionFormat
{
    private readonly bool _logprobs;
    private readonly int[] _textOffsets;   // [n] characters streamed so far per choice, for text_offset across chunks

    /// <summary>Creates the format for one request.</summary>
    public TextCompletionFormat(string id, string model, Kvasir.Model.Tokenizers.Tokenizer tokenizer, int n, bool logprobs)
        : base(id, model, tokenizer, n)
    {
        _logprobs = logprobs;
        _textOffsets = new int[n];
    }

    /// <inheritdoc />
    protected override void WriteChunkChoice(Utf8JsonWriter json, TokenDelta delta)
    {
        json.WriteString("text", delta.Text);
        if (_logprobs && delta.Logprobs is { } lp)
        {
            _textOffsets[delta.Index] = WriteLogprobs(json, lp, _textOffsets[delta.Index]);
        }
        else
        {
            json.WriteNull("logprobs");
        }
    }

    /// <inheritdoc />
    protected override string ChunkObject => "text_completion";

    /// <inheritdoc />
    protected override string ResponseObject => "text_completion";

    /// <inheritdoc />
    protected override void WriteResponseChoice(Utf8JsonWriter json, ChoiceResult choice)
    {
        json.WriteString("text", choice.Text.ToString());
        if (_logprobs)
        {
            WriteLogprobs(json, choice.Logprobs, 0);
        }
        else
        {
            json.WriteNull("logprobs");
        }
    }

    private int WriteLogprobs(Utf8JsonWriter json, IReadOnlyList<TokenLogprob> tokens, int offset)
    {
        json.WriteStartObject("logprobs");
        json.WriteStartArray("tokens");
        foreach (var t in tokens)
        {
            json.WriteStringValue(TokenString(t.TokenId));
        }

        json.WriteEndArray();
        json.WriteStartArray("token_logprobs");
        foreach (var t in tokens)
        {
            json.WriteNumberValue(Finite(t.Logprob));
        }

        json.WriteEndArray();
        json.WriteStartArray("top_logprobs");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tokens)
        {
            // Keys are token texts; two ids with the same text keep the more likely one (the first).
            seen.Clear();
            json.WriteStartObject();
            foreach (var (id, lp) in t.Top)
            {
                var text = TokenString(id);
                if (seen.Add(text))
                {
                    json.WriteNumber(text, Finite(lp));
                }
            }

            var sampled = TokenString(t.TokenId);
            if (seen.Add(sampled))
            {
                json.WriteNumber(sampled, Finite(t.Logprob));
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("text_offset");
        foreach (var t in tokens)
        {
            json.WriteNumberValue(offset);
            offset += TokenString(t.TokenId).Length;
        }

        json.WriteEndArray();
        json.WriteEndObject();
        return offset;
    }
}
