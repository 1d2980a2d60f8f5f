using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Kvasir.Server.Protocol;

/// <summary>
/// A JSON writer over a growable buffer, reset and reused for every chunk of a stream (one per request, not
/// one per token). Non-ASCII text is written as UTF-8, not as \u escapes: the output is JSON for APIs, not HTML.
/// </summary>
public sealed class PooledJson : IDisposable
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false };
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    /// <summary>Creates the buffer and its writer.</summary>
    public PooledJson()
    {
        Writer = new Utf8JsonWriter(_buffer, Options);
    }

    /// <summary>The writer.</summary>
    public Utf8JsonWriter Writer { get; }

    /// <summary>The JSON written so far (after a flush).</summary>
    public ReadOnlyMemory<byte> Written
    {
        get
        {
            Writer.Flush();
            return _buffer.WrittenMemory;
        }
    }

    /// <summary>Clears the buffer for the next document.</summary>
    public void Reset()
    {
        Writer.Flush();
        _buffer.Clear();
        Writer.Reset(_buffer);
    }

    /// <summary>Writes the JSON as the response body.</summary>
    public async Task CopyToAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.ContentLength = Written.Length;
        await response.Body.WriteAsync(Written, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the writer.</summary>
    public void Dispose() => Writer.Dispose();
}
