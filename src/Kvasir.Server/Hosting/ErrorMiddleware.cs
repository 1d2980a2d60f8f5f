using Kvasir.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Kvasir.Server.Hosting;

/// <summary>
/// Turns every failure into OpenAI's error body: <see cref="ApiException"/> (the client's mistakes and the engine's
/// refusals) with its status, Kestrel's <see cref="BadHttpRequestException"/> with its status, and anything else
/// as a 500 that is also logged (a 500 is always a server bug). A client that went away gets nothing.
/// </summary>
internal sealed class ErrorMiddleware(RequestDelegate next, ServingContext serving)
{
    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            await ErrorResponse.WriteAsync(http, e).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            var code = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "request_too_large" : null;
            await ErrorResponse.WriteAsync(http, e.StatusCode, e.Message, null, ApiErrorTypes.InvalidRequest, code).ConfigureAwait(false);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client disconnected; there is nobody to answer.
        }
        catch (Exception e)
        {
            serving.Log?.WriteLine($"error: {http.Request.Method} {http.Request.Path}: {e}");
            await ErrorResponse.WriteAsync(http, StatusCodes.Status500InternalServerError, "The server failed: " + e.Message, null, ApiErrorTypes.Server, "internal_error").ConfigureAwait(false);
        }
    }
}
