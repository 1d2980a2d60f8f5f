using System.Net;
using System.Reflection;
using Kvasir.Engine;
using Kvasir.Engine.ChatClient;
using Kvasir.Server.Endpoints;
using Kvasir.Server.Hosting;
using Kvasir.Server.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kvasir.Server;

/// <summary>
/// The OpenAI-compatible HTTP server: Kestrel with minimal-API routes over one <see cref="EngineLoop"/>.
/// </summary>
/// <remarks>
/// <code>
/// GET  /v1/models                 the served model            POST /tokenize, /detokenize  vLLM's shapes
/// POST /v1/chat/completions       chat, streaming over SSE    GET  /health                 200, or 503 while draining
/// POST /v1/completions            text completions            GET  /metrics                Prometheus, vLLM's names
/// GET  /version
/// </code>
/// The server starts the engine thread with itself and drains it on stop (new requests get 503, the ones in
/// flight finish until <see cref="ServerOptions.ShutdownTimeout"/>, then are aborted). It does not own the
/// engine: whoever created the <see cref="LlmEngine"/> disposes it after the server has stopped.
/// </remarks>
public sealed class KvasirServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KvasirServer(WebApplication app, EngineLoop loop, ChatPromptBuilder prompts)
    {
        _app = app;
        Loop = loop;
        Prompts = prompts;
    }

    /// <summary>Raised after any server has started listening (for hosts and tests that start one indirectly, as `kvasir serve` does).</summary>
    public static event Action<KvasirServer>? Started;

    /// <summary>The engine loop the server submits to.</summary>
    public EngineLoop Loop { get; }

    /// <summary>The chat prompt builder (the template in use and where it came from).</summary>
    public ChatPromptBuilder Prompts { get; }

    /// <summary>The ASP.NET Core application (for its services and lifetime).</summary>
    public WebApplication App => _app;

    /// <summary>The address the server listens on, for example http://127.0.0.1:8000 (known after <see cref="StartAsync"/>).</summary>
    public Uri BaseAddress
    {
        get
        {
            var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            var first = addresses?.FirstOrDefault() ?? throw new InvalidOperationException("The server has not started.");
            return new Uri(first.Replace("://[::]", "://localhost", StringComparison.Ordinal).Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal));
        }
    }

    /// <summary>The version /version reports.</summary>
    public static string Version { get; } = typeof(KvasirServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0.0.0";

    /// <summary>
    /// Builds the server over an engine loop (not started yet). The chat template is <see cref="ServerOptions.ChatTemplate"/>
    /// when given, else the model's, else ChatML.
    /// </summary>
    /// <param name="loop">The engine loop; the server starts it and stops it.</param>
    /// <param name="options">Address, keys, limits.</param>
    /// <param name="log">Where server errors and warnings are written, or null.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="Kvasir.Model.ChatTemplates.ChatTemplateException">The chat template does not parse.</exception>
    public static KvasirServer Create(EngineLoop loop, ServerOptions options, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        var address = ParseHost(options.Host, options.Port);
        var prompts = ChatPromptBuilder.ForModel(loop.Engine.Model, options.ChatTemplate);
        var serving = new ServingContext(loop, options, prompts, new ApiKeyStore(options.ApiKeys), log);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddSingleton(serving);
        builder.Services.AddHostedService(_ => new EngineLoopService(loop));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            if (address is null)
            {
                k.ListenLocalhost(options.Port);
            }
            else
            {
                k.Listen(address, options.Port);
            }
        });

        var app = builder.Build();
        app.UseMiddleware<ErrorMiddleware>();
        app.UseStatusCodePages(context => WriteStatusError(context.HttpContext));
        app.UseMiddleware<ApiKeyMiddleware>();
        MapRoutes(app, serving);
        return new KvasirServer(app, loop, prompts);
    }

    /// <summary>Starts the engine thread and Kestrel; returns once the server listens.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        Started?.Invoke(this);
    }

    /// <summary>Stops: refuses new requests, drains the ones in flight (aborting them at the shutdown timeout or when <paramref name="cancellationToken"/> fires), stops Kestrel.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>Completes when the server has been stopped (by <see cref="StopAsync"/>, Ctrl+C or SIGTERM) or the token fires.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops the server if it runs and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static void MapRoutes(WebApplication app, ServingContext serving)
    {
        var chat = new ChatCompletionsEndpoint(serving);
        var completions = new CompletionsEndpoint(serving);
        var models = new ModelsEndpoint(serving);
        var tokenize = new TokenizeEndpoint(serving);
        app.MapPost("/v1/chat/completions", chat.HandleAsync);
        app.MapPost("/v1/completions", completions.HandleAsync);
        app.MapGet("/v1/models", models.ListAsync);
        app.MapGet("/v1/models/{id}", models.GetAsync);
        app.MapPost("/tokenize", tokenize.TokenizeAsync);
        app.MapPost("/detokenize", tokenize.DetokenizeAsync);
        app.MapGet("/health", (HttpContext http) => serving.Loop.IsShuttingDown
            ? ErrorResponse.WriteAsync(http, StatusCodes.Status503ServiceUnavailable, "The server is shutting down.", null, ApiErrorTypes.Server, "shutting_down")
            : Task.CompletedTask);
        app.MapGet("/version", async (HttpContext http) =>
        {
            using var json = new PooledJson();
            json.Writer.WriteStartObject();
            json.Writer.WriteString("version", Version);
            json.Writer.WriteEndObject();
            http.Response.ContentType = "application/json";
            await json.CopyToAsync(http.Response, http.RequestAborted).ConfigureAwait(false);
        });
        app.MapGet("/metrics", async (HttpContext http) =>
        {
            http.Response.ContentType = PrometheusExporter.ContentType;
            await http.Response.WriteAsync(PrometheusExporter.Render(serving.Engine), http.RequestAborted).ConfigureAwait(false);
        });
    }

    private static Task WriteStatusError(HttpContext http)
    {
        var status = http.Response.StatusCode;
        var (message, code) = status switch
        {
            StatusCodes.Status404NotFound => ($"Not found: {http.Request.Method} {http.Request.Path}. The API is under /v1 (see GET /v1/models).", "not_found"),
            StatusCodes.Status405MethodNotAllowed => ($"Method {http.Request.Method} is not allowed for {http.Request.Path}.", "method_not_allowed"),
            StatusCodes.Status415UnsupportedMediaType => ("Unsupported media type: send application/json.", "unsupported_media_type"),
            _ => ($"HTTP {status}.", null),
        };
        return ErrorResponse.WriteAsync(http, status, message, null, status >= 500 ? ApiErrorTypes.Server : ApiErrorTypes.InvalidRequest, code);
    }

    // null means "localhost" (both loopback addresses); port 0 there is not supported by Kestrel, so it binds 127.0.0.1.
    private static IPAddress? ParseHost(string host, int port) => host switch
    {
        "localhost" => port == 0 ? IPAddress.Loopback : null,
        "*" or "+" or "0.0.0.0" => IPAddress.Any,
        _ => IPAddress.TryParse(host, out var address) ? address
            : throw new ArgumentException($"--host '{host}' is not an IP address: give one (127.0.0.1, 0.0.0.0, ::1) or 'localhost'.", nameof(host)),
    };
}
