using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kvasir.Cli.Bench;

/// <summary>
/// Sends benchmark requests to any OpenAI-compatible server (`/v1/completions` or `/v1/chat/completions`, streamed
/// with `stream_options.include_usage`) and times every server-sent-event chunk that carries text.
/// </summary>
public sealed class OpenAiStreamClient : IDisposable
{
    private readonly HttpClient _http;

    /// <summary>Creates a client for one server.</summary>
    /// <param name="baseUrl">The server's root (for example http://127.0.0.1:8000); a trailing /v1 is removed.</param>
    /// <param name="apiKey">Bearer key, or null.</param>
    public OpenAiStreamClient(string baseUrl, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        var root = baseUrl.TrimEnd('/');
        if (root.EndsWith("/v1", StringComparison.Ordinal))
        {
            root = root[..^3];
        }

        if (!Uri.TryCreate(root + "/", UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new CliException($"--base-url '{baseUrl}' is not an http(s) URL: give for example http://127.0.0.1:8000.");
        }

        BaseAddress = uri;
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        _http = new HttpClient(handler) { BaseAddress = uri, Timeout = Timeout.InfiniteTimeSpan };
        if (apiKey is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
    }

    /// <summary>The server's root address.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The first model `/v1/models` lists.</summary>
    public async Task<string> FirstModelAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri("v1/models", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            return doc.RootElement.GetProperty("data")[0].GetProperty("id").GetString()!;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new CliException($"cannot read the model name from {BaseAddress}v1/models ({e.Message}): pass --model NAME.");
        }
    }

    /// <summary>
    /// Tokens per word of the benchmark's word list on the server's tokenizer (vLLM's /tokenize), or null when the
    /// server has no /tokenize.
    /// </summary>
    public async Task<double?> TokensPerWordAsync(string model, CancellationToken cancellationToken)
    {
        const int words = 200;
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["model"] = model, ["prompt"] = " " + WordText.CalibrationSample(words), ["add_special_tokens"] = false });
        try
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await _http.PostAsync(new Uri("tokenize", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            var count = doc.RootElement.GetProperty("count").GetInt32();
            return count > 0 ? (double)count / words : null;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>GET a path as text (the /metrics scrape), or null when it fails.</summary>
    public async Task<string?> GetTextAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false) : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>The JSON body of one request.</summary>
    public static string BuildBody(BenchRequest request, string model, bool chat, bool ignoreEos)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            if (chat)
            {
                w.WriteStartArray("messages");
                foreach (var m in request.Messages)
                {
                    w.WriteStartObject();
                    w.WriteString("role", m.Role);
                    w.WriteString("content", m.Content);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteNumber("max_completion_tokens", request.OutputLen);
            }
            else
            {
                w.WriteString("prompt", request.PromptText);
            }

            w.WriteNumber("max_tokens", request.OutputLen);
            w.WriteNumber("temperature", 0);
            w.WriteBoolean("stream", true);
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true);
            w.WriteEndObject();
            if (ignoreEos)
            {
                w.WriteBoolean("ignore_eos", true);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Sends one streamed request and measures it. Never throws for a server or network failure.</summary>
    /// <param name="request">The request.</param>
    /// <param name="body">Its JSON body (<see cref="BuildBody"/>).</param>
    /// <param name="chat">Chat endpoint (else completions).</param>
    /// <param name="runStart">The run's start (a <see cref="Stopwatch"/> timestamp) for <see cref="RequestOutcome.StartSeconds"/>.</param>
    /// <param name="sendTimestamp">When the request was sent (a <see cref="Stopwatch"/> timestamp): TTFT and latency count from it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<RequestOutcome> SendAsync(BenchRequest request, string body, bool chat, long runStart, long sendTimestamp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var start = sendTimestamp;
        var startSeconds = Stopwatch.GetElapsedTime(runStart, start).TotalSeconds;
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, chat ? "v1/chat/completions" : "v1/completions")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                return new RequestOutcome { Success = false, Status = status, StartSeconds = startSeconds, Error = $"HTTP {status}: {Shorten(text)}" };
            }

            using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var itls = new List<double>(request.OutputLen);
            var generated = new StringBuilder();
            var ttft = 0.0;
            var last = 0L;
            int? promptTokens = null, outputTokens = null;
            var cached = 0;
            var done = false;
            string? line;
            while ((line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)) is not null)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal))
                {
                    continue;
                }

                var data = line.AsSpan(5).Trim();
                if (data.SequenceEqual("[DONE]"))
                {
                    done = true;
                    break;
                }

                var now = Stopwatch.GetTimestamp();
                using var doc = JsonDocument.Parse(data.ToString());
                var root = doc.RootElement;
                if (root.TryGetProperty("error", out var error))
                {
                    return new RequestOutcome { Success = false, Status = status, StartSeconds = startSeconds, Error = Shorten(error.ToString()) };
                }

                if (Text(root, chat) is { } piece && (piece.Length > 0 || IsTokenStep(root)))
                {
                    generated.Append(piece);
                    if (last == 0)
                    {
                        ttft = Stopwatch.GetElapsedTime(start, now).TotalSeconds;
                    }
                    else
                    {
                        itls.Add(Stopwatch.GetElapsedTime(last, now).TotalSeconds);
                    }

                    last = now;
                }

                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    promptTokens = usage.TryGetProperty("prompt_tokens", out var p) ? p.GetInt32() : promptTokens;
                    outputTokens = usage.TryGetProperty("completion_tokens", out var c) ? c.GetInt32() : outputTokens;
                    if (usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
                        && details.TryGetProperty("cached_tokens", out var ct) && ct.ValueKind == JsonValueKind.Number)
                    {
                        cached = ct.GetInt32();
                    }
                }
            }

            var latency = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (!done || last == 0)
            {
                return new RequestOutcome
                {
                    Success = false, Status = status, StartSeconds = startSeconds,
                    Error = done ? "the stream carried no token chunk" : "the stream ended before [DONE]",
                };
            }

            return new RequestOutcome
            {
                Success = true, Status = status, StartSeconds = startSeconds, Ttft = ttft, Itls = [.. itls], Latency = latency,
                PromptTokens = promptTokens ?? request.PromptLen, OutputTokens = outputTokens ?? itls.Count + 1, CachedTokens = cached,
                GeneratedText = generated.ToString(),
            };
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or InvalidOperationException)
        {
            return new RequestOutcome { Success = false, Status = 0, StartSeconds = startSeconds, Error = Shorten(e.Message) };
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    private static string? Text(JsonElement root, bool chat)
    {
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            return null;
        }

        var choice = choices[0];
        var text = chat
            ? choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) ? content : default
            : choice.TryGetProperty("text", out var t) ? t : default;
        return text.ValueKind == JsonValueKind.String ? text.GetString() : null;
    }

    /// <summary>
    /// Whether a chunk with empty text still stands for generated tokens (as vLLM's benchmark counts it): a step
    /// whose tokens are all held back or not rendered (control tokens, a split UTF-8 character) still streams a
    /// chunk, while the chat role chunk and the closing chunk with the finish reason do not count.
    /// </summary>
    private static bool IsTokenStep(JsonElement root)
    {
        var choice = root.GetProperty("choices")[0];
        var finished = choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String;
        var roleOnly = choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("role", out _);
        return !finished && !roleOnly;
    }

    private static string Shorten(string s) => s.Length <= 300 ? s : s[..300] + "…";
}
