using System.ClientModel;
using System.Net.Http.Headers;
using Kvasir.Engine;
using Kvasir.Model;
using OpenAI;
using OpenAI.Chat;

namespace Kvasir.Server.Tests;

/// <summary>A real Kestrel server on 127.0.0.1 with a free port, over a real engine.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(LanguageModel model, LlmEngine engine, EngineLoop loop, KvasirServer server, string? apiKey)
    {
        Model = model;
        Engine = engine;
        Loop = loop;
        Server = server;
        Http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
    }

    public LanguageModel Model { get; }

    public LlmEngine Engine { get; }

    public EngineLoop Loop { get; }

    public KvasirServer Server { get; }

    /// <summary>A client with the first API key (if any) set.</summary>
    public HttpClient Http { get; }

    public string ModelName => Engine.ModelName;

    public static EngineOptions SmallEngine => new() { KvCacheMemoryBytes = 4L << 20, MaxNumSeqs = 16, MaxNumBatchedTokens = 256 };

    public static async Task<TestServer> StartAsync(string? modelPath = null, EngineOptions? engineOptions = null, ServerOptions? serverOptions = null, string? servedName = null)
    {
        var model = LanguageModel.Open(modelPath ?? TestModels.Tiny);
        var engine = LlmEngine.Create(model, engineOptions ?? SmallEngine, null, servedName);
        var loop = new EngineLoop(engine);
        var options = (serverOptions ?? new ServerOptions()) with { Host = "127.0.0.1", Port = 0 };
        var server = KvasirServer.Create(loop, options);
        await server.StartAsync();
        var key = options.ApiKeys.Count > 0 ? options.ApiKeys[0].Split('=')[0] : null;
        return new TestServer(model, engine, loop, server, key);
    }

    /// <summary>The official OpenAI SDK's chat client pointed at this server.</summary>
    public ChatClient ChatClient(string apiKey = "unused") => new(ModelName, new ApiKeyCredential(apiKey), Options);

    /// <summary>The official OpenAI SDK's client pointed at this server.</summary>
    public OpenAIClient OpenAIClient(string apiKey = "unused") => new(new ApiKeyCredential(apiKey), Options);

    private OpenAIClientOptions Options => new() { Endpoint = new Uri(Server.BaseAddress, "/v1"), NetworkTimeout = TimeSpan.FromSeconds(60) };

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Engine.Dispose();
        Model.Dispose();
    }
}

/// <summary>One shared server (no keys) for the tests that only read from it.</summary>
public sealed class SharedServer : IAsyncLifetime
{
    internal TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SharedServerCollection : ICollectionFixture<SharedServer>
{
    public const string Name = "shared server";
}
