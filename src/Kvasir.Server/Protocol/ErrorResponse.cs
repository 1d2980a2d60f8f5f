using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Kvasir.Server.Protocol;

/// <summary>Writes OpenAI's error body: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
public static class ErrorResponse
{
    /// <summary>Writes the error object (without the outer braces' owner) to a JSON writer: <c>{"error": {...}}</c>.</summary>
    public static void Write(Utf8JsonWriter json, string message, string type, string? param, string? code)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", message);
        json.WriteString("type", type);
        WriteNullable(json, "param", param);
        WriteNullable(json, "code", code);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Answers a request with an error status and body (when the response has not started yet).</summary>
    public static async Task WriteAsync(HttpContext context, int statusCode, string message, string? param = null, string type = ApiErrorTypes.InvalidRequest, string? code = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        using var buffer = new PooledJson();
        Write(buffer.Writer, message, type, param, code);
        await buffer.CopyToAsync(response, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Answers with an <see cref="ApiException"/>.</summary>
    public static Task WriteAsync(HttpContext context, ApiException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return WriteAsync(context, error.StatusCode, error.Message, error.Param, error.Type, error.Code);
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
