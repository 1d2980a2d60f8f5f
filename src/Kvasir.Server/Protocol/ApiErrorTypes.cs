namespace Kvasir.Server.Protocol;

/// <summary>The <c>error.type</c> values the server answers with (OpenAI's where OpenAI has one).</summary>
public static class ApiErrorTypes
{
    /// <summary>The request is malformed, invalid, unauthorized or names something that does not exist.</summary>
    public const string InvalidRequest = "invalid_request_error";

    /// <summary>The server is at capacity: retry later (429).</summary>
    public const string RateLimit = "rate_limit_error";

    /// <summary>The server cannot take the request now (503 while shutting down) or failed (500).</summary>
    public const string Server = "server_error";
}
