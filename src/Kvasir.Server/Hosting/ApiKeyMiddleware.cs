using Kvasir.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Kvasir.Server.Hosting;

/// <summary>
/// Bearer-token authentication for the API routes (/v1/..., /tokenize, /detokenize) when keys are configured:
/// a missing or unknown key gets 401 with OpenAI's error body; a known key puts its tenant in
/// <see cref="HttpContext.Items"/>, where it decides the request's cache salt. /health, /metrics and /version stay open.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, ServingContext serving)
{
    public Task InvokeAsync(HttpContext http)
    {
        if (!serving.Keys.IsEnabled || !IsProtected(http.Request.Path))
        {
            return next(http);
        }

        string header = http.Request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (header.Length == 0)
        {
            return Reject(http, "You didn't provide an API key: send it in an Authorization header (Authorization: Bearer YOUR_KEY).", "missing_api_key");
        }

        if (!header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) || !serving.Keys.TryGetTenant(header[Bearer.Length..].Trim(), out var tenant))
        {
            return Reject(http, "Incorrect API key provided.", "invalid_api_key");
        }

        http.Items[ServingContext.TenantItem] = tenant;
        return next(http);
    }

    private static bool IsProtected(PathString path)
        => path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase)
           || path.StartsWithSegments("/tokenize", StringComparison.OrdinalIgnoreCase)
           || path.StartsWithSegments("/detokenize", StringComparison.OrdinalIgnoreCase);

    private static Task Reject(HttpContext http, string message, string code)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return ErrorResponse.WriteAsync(http, StatusCodes.Status401Unauthorized, message, null, ApiErrorTypes.InvalidRequest, code);
    }
}
