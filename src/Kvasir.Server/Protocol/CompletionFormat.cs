using System.Text.Json;
using Kvasir.Engine;
using Kvasir.Engine.Generation;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Server.Protocol;

/// <summary>
/// How one API shapes its answers: the non-streamed response object and the streamed chunks. Chat completions
/// and text completions differ in object names, where the text goes and how logprobs look.
/// </summary>
public abstract class CompletionFormat
{
    /// <summary>Creates a format for one request.</summary>
    protected CompletionFormat(string id, string model, Tokenizer tokenizer, int n)
    {
        Id = id;
        Model = model;
        Tokenizer = tokenizer;
        N = n;
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    /// <summary>The response id (also the engine request id).</summary>
    public string Id { get; }

    /// <summary>The served model name.</summary>
    public string Model { get; }

    /// <summary>Unix time of creation.</summary>
    public long Created { get; }

    /// <summary>Number of choices.</summary>
    public int N { get; }

    /// <summary>The tokenizer, for the text of tokens in logprobs.</summary>
    protected Tokenizer Tokenizer { get; }

    /// <summary>Whether a stream opens with one chunk per choice before any token (chat: the assistant role).</summary>
    public virtual bool HasOpeningChunks => false;

    /// <summary>Writes the opening chunk of a choice (see <see cref="HasOpeningChunks"/>).</summary>
    public virtual void WriteOpeningChunk(Utf8JsonWriter json, int index, bool includeUsageField)
    {
    }

    /// <summary>Writes one streamed chunk for a delta.</summary>
    public void WriteChunk(Utf8JsonWriter json, TokenDelta delta, bool includeUsageField)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(delta);
        WriteChunkStart(json, delta.Index);
        WriteChunkChoice(json, delta);
        WriteChunkEnd(json, delta.Finish, includeUsageField);
    }

    /// <summary>Writes what a format puts in a streamed choice besides its index and finish_reason.</summary>
    protected abstract void WriteChunkChoice(Utf8JsonWriter json, TokenDelta delta);

    /// <summary>Opens a streamed chunk with one choice: head, "choices": [{"index": ...</summary>
    protected void WriteChunkStart(Utf8JsonWriter json, int index)
    {
        json.WriteStartObject();
        WriteHead(json, ChunkObject);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", index);
    }

    /// <summary>Closes a streamed chunk: finish_reason, the choice, and "usage": null when asked.</summary>
    protected void WriteChunkEnd(Utf8JsonWriter json, FinishReason? finish, bool includeUsageField)
    {
        WriteFinish(json, finish);
        json.WriteEndObject();
        json.WriteEndArray();
        if (includeUsageField)
        {
            json.WriteNull("usage");
        }

        json.WriteEndObject();
    }

    /// <summary>Writes the last chunk of a stream with include_usage: no choices, the usage.</summary>
    public void WriteUsageChunk(Utf8JsonWriter json, UsageTotals usage)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(usage);
        json.WriteStartObject();
        WriteHead(json, ChunkObject);
        json.WriteStartArray("choices");
        json.WriteEndArray();
        usage.Write(json);
        json.WriteEndObject();
    }

    /// <summary>The "object" value of a streamed chunk ("chat.completion.chunk", "text_completion").</summary>
    protected abstract string ChunkObject { get; }

    /// <summary>Writes the whole non-streamed response: head, each choice (index, body, finish_reason), usage.</summary>
    public void WriteResponse(Utf8JsonWriter json, IReadOnlyList<ChoiceResult> choices, UsageTotals usage)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(choices);
        ArgumentNullException.ThrowIfNull(usage);
        json.WriteStartObject();
        WriteHead(json, ResponseObject);
        json.WriteStartArray("choices");
        for (var i = 0; i < choices.Count; i++)
        {
            json.WriteStartObject();
            json.WriteNumber("index", i);
            WriteResponseChoice(json, choices[i]);
            WriteFinish(json, choices[i].Finish);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        usage.Write(json);
        json.WriteEndObject();
    }

    /// <summary>The "object" value of a whole response ("chat.completion", "text_completion").</summary>
    protected abstract string ResponseObject { get; }

    /// <summary>Writes what a format puts in a response choice besides its index and finish_reason.</summary>
    protected abstract void WriteResponseChoice(Utf8JsonWriter json, ChoiceResult choice);

    /// <summary>OpenAI's finish_reason value.</summary>
    protected static string? FinishName(FinishReason? finish) => finish switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Abort => "abort",
        _ => null,
    };

    /// <summary>Writes a finish_reason property (null while the choice goes on).</summary>
    protected static void WriteFinish(Utf8JsonWriter json, FinishReason? finish)
    {
        if (FinishName(finish) is { } name)
        {
            json.WriteString("finish_reason", name);
        }
        else
        {
            json.WriteNull("finish_reason");
        }
    }

    /// <summary>The text of one token (special tokens rendered), for logprobs.</summary>
    protected string TokenString(int tokenId) => System.Text.Encoding.UTF8.GetString(Tokenizer.TokenBytes(tokenId));

    /// <summary>A log-probability JSON can hold: -inf becomes -9999 (as vLLM does), NaN becomes -9999.</summary>
    protected static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : -9999f;

    /// <summary>Writes the common head of a response or chunk object.</summary>
    protected void WriteHead(Utf8JsonWriter json, string objectName)
    {
        json.WriteString("id", Id);
        json.WriteString("object", objectName);
        json.WriteNumber("created", Created);
        json.WriteString("model", Model);
    }
}
