using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;

namespace Kvasir.Server.Protocol;

/// <summary>
/// Reads a JSON request body with a size limit and checks it completely before anything looks at it:
/// too large → 413, not UTF-8 → 400 with the byte offset, not JSON → 400 with the reader's message,
/// not an object → 400.
/// </summary>
public static class RequestBody
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };

    /// <summary>Reads and parses the body; the caller disposes the document.</summary>
    /// <exception cref="ApiException">The body is too large, empty, not UTF-8, not JSON, or not a JSON object.</exception>
    public static async Task<JsonDocument> ReadObjectAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength is long declared && declared > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        ReadOnlyMemory<byte> bytes = await ReadAllAsync(request.Body, maxBytes, cancellationToken).ConfigureAwait(false);
        if (bytes.Span.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];   // a UTF-8 byte order mark is allowed before the JSON
        }

        if (bytes.Length == 0)
        {
            throw ApiException.BadRequest("The request body is empty: send a JSON object.");
        }

        if (!Utf8.IsValid(bytes.Span))
        {
            throw ApiException.BadRequest($"The request body is not valid UTF-8 (first bad byte at offset {FirstInvalidUtf8(bytes.Span)}).");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, ParseOptions);
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"The request body is not valid JSON: {e.Message}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw ApiException.BadRequest($"The request body must be a JSON object, got {JsonFields.Describe(kind)}.");
        }

        return document;
    }

    private static async Task<byte[]> ReadAllAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var collected = new MemoryStream();
            while (true)
            {
                int read;
                try
                {
                    read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                }
                catch (BadHttpRequestException e)
                {
                    throw e.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge(maxBytes) : new ApiException(e.StatusCode, e.Message);
                }

                if (read == 0)
                {
                    return collected.ToArray();
                }

                if (collected.Length + read > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }

                collected.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ApiException TooLarge(long maxBytes)
        => new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than this server's limit of {maxBytes} bytes.", null, ApiErrorTypes.InvalidRequest, "request_too_large");

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != OperationStatus.Done)
            {
                return offset;
            }

            offset += consumed;
        }

        return offset;
    }
}
