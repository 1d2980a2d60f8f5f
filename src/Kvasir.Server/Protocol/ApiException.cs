namespace Kvasir.Server.Protocol;

/// <summary>
/// A request the server refuses: an HTTP status and the fields of OpenAI's error body
/// (<c>{"error": {"message", "type", "param", "code"}}</c>). Thrown while parsing and validating, caught at the edge.
/// </summary>
public sealed class ApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ApiException(int statusCode, string message, string? param = null, string type = ApiErrorTypes.InvalidRequest, string? code = null)
        : base(message)
    {
        StatusCode = statusCode;
        Param = param;
        Type = type;
        Code = code;
    }

    /// <summary>HTTP status code (4xx for the client's mistakes, 503 while shutting down).</summary>
    public int StatusCode { get; }

    /// <summary>The request field at fault (for example "messages[1].role"), or null.</summary>
    public string? Param { get; }

    /// <summary>OpenAI's error type.</summary>
    public string Type { get; }

    /// <summary>A machine-readable code, or null.</summary>
    public string? Code { get; }

    /// <summary>A 400 about a field.</summary>
    public static ApiException BadRequest(string message, string? param = null, string? code = null) => new(400, message, param, ApiErrorTypes.InvalidRequest, code);
}
