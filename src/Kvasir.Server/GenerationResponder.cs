using System.Buffers;
using System.Threading.Channels;
using Kvasir.Engine;
using Kvasir.Engine.Generation;
using Kvasir.Server.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kvasir.Server;

/// <summary>
/// Answers an accepted request from its channel of deltas: as one JSON response, or as server-sent events
/// (<c>data: {...}\n\n</c> per chunk, <c>data: [DONE]</c> last). Whatever happens (the client disconnects, a write
/// fails), a request that has not finished is aborted in the engine, which frees its KV blocks within one step.
/// </summary>
internal static class GenerationResponder
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static Task RespondAsync(HttpContext http, ServingContext serving, EngineRequest request, ChannelReader<TokenDelta> deltas, CompletionFormat format, GenerationFields g)
        => g.Stream
            ? StreamAsync(http, serving, request, deltas, format, g.IncludeUsage)
            : CollectAsync(http, serving, request, deltas, format);

    private static async Task CollectAsync(HttpContext http, ServingContext serving, EngineRequest request, ChannelReader<TokenDelta> deltas, CompletionFormat format)
    {
        var choices = new ChoiceResult[format.N];
        for (var i = 0; i < choices.Length; i++)
        {
            choices[i] = new ChoiceResult();
        }

        var usage = new UsageTotals(request.PromptTokenIds.Length);
        var completed = false;
        try
        {
            await foreach (var delta in deltas.ReadAllAsync(http.RequestAborted).ConfigureAwait(false))
            {
                choices[delta.Index].Add(delta);
                if (delta.Usage is { } u)
                {
                    usage.Add(u);
                }
            }

            completed = true;
        }
        finally
        {
            if (!completed)
            {
                serving.Loop.Abort(request.RequestId);
            }
        }

        foreach (var c in choices)
        {
            if (c.Finish == FinishReason.Abort)
            {
                throw new ApiException(StatusCodes.Status503ServiceUnavailable, "The server stopped before the request finished; retry it.", null, ApiErrorTypes.Server, "aborted");
            }
        }

        using var json = new PooledJson();
        format.WriteResponse(json.Writer, choices, usage);
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/json";
        await json.CopyToAsync(http.Response, http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task StreamAsync(HttpContext http, ServingContext serving, EngineRequest request, ChannelReader<TokenDelta> deltas, CompletionFormat format, bool includeUsage)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var body = response.BodyWriter;
        var cancel = http.RequestAborted;
        var usage = new UsageTotals(request.PromptTokenIds.Length);
        using var json = new PooledJson();
        var completed = false;
        try
        {
            if (format.HasOpeningChunks)
            {
                for (var i = 0; i < format.N; i++)
                {
                    json.Reset();
                    format.WriteOpeningChunk(json.Writer, i, includeUsage);
                    WriteEvent(body, json.Written.Span);
                }

                await body.FlushAsync(cancel).ConfigureAwait(false);
            }

            try
            {
                while (await deltas.WaitToReadAsync(cancel).ConfigureAwait(false))
                {
                    // Everything already produced goes out in one flush.
                    while (deltas.TryRead(out var delta))
                    {
                        if (delta.Usage is { } u)
                        {
                            usage.Add(u);
                        }

                        json.Reset();
                        format.WriteChunk(json.Writer, delta, includeUsage);
                        WriteEvent(body, json.Written.Span);
                    }

                    if ((await body.FlushAsync(cancel).ConfigureAwait(false)).IsCompleted)
                    {
                        return;   // the connection is gone: the finally block aborts the request
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The engine failed this request: the status is already 200, so say it in the stream.
                serving.Log?.WriteLine($"request {request.RequestId} failed in the engine: {e.Message}");
                json.Reset();
                ErrorResponse.Write(json.Writer, "The engine failed while generating: " + e.Message, ApiErrorTypes.Server, null, "engine_error");
                WriteEvent(body, json.Written.Span);
                body.Write(Done);
                await body.FlushAsync(cancel).ConfigureAwait(false);
                return;
            }

            completed = true;
            if (includeUsage)
            {
                json.Reset();
                format.WriteUsageChunk(json.Writer, usage);
                WriteEvent(body, json.Written.Span);
            }

            body.Write(Done);
            await body.FlushAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The client went away; the finally block aborts the request.
        }
        finally
        {
            if (!completed)
            {
                serving.Loop.Abort(request.RequestId);
            }
        }
    }

    private static void WriteEvent(System.IO.Pipelines.PipeWriter body, ReadOnlySpan<byte> json)
    {
        body.Write(DataPrefix);
        body.Write(json);
        body.Write(EventEnd);
    }
}
