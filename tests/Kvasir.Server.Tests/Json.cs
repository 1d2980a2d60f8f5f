using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kvasir.Server.Tests;

/// <summary>Raw HTTP helpers: post a body as given, read JSON, read server-sent events.</summary>
internal static class Json
{
    public static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(HttpClient http, string path, string body)
        => await PostBytesAsync(http, path, Encoding.UTF8.GetBytes(body));

    public static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostBytesAsync(HttpClient http, string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var response = await http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, json, response);
    }

    /// <summary>Posts a streaming request and returns the data payloads of the events, [DONE] included.</summary>
    public static async Task<List<string>> PostStreamAsync(HttpClient http, string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var events = new List<string>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("data: ", block);
            events.Add(block["data: ".Length..]);
        }

        return events;
    }

    /// <summary>Asserts OpenAI's error schema: error.message (non-empty string), error.type (string), error.param and error.code present.</summary>
    public static void AssertError(JsonElement body, string? param = null)
    {
        Assert.Equal(JsonValueKind.Object, body.ValueKind);
        var error = body.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out var p));
        Assert.True(error.TryGetProperty("code", out _));
        if (param is not null)
        {
            Assert.Equal(param, p.GetString());
        }
    }
}
