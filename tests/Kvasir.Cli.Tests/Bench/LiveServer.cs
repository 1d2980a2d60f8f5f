using Kvasir.Engine;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Making;
using Kvasir.Server;

namespace Kvasir.Cli.Tests.Bench;

/// <summary>A real Kvasir server on 127.0.0.1 with a free port over the tiny BPE model (context 512).</summary>
internal sealed class LiveServer : IAsyncDisposable
{
    private static readonly Lazy<string> TinyModel = new(() =>
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("kvasir-bench-tests-").FullName, "tiny.gguf");
        ModelMaker.Write(path, ModelShape.T, GgmlType.F32, VocabKind.Bpe);
        return path;
    });

    private readonly LanguageModel _model;
    private readonly LlmEngine _engine;
    private readonly KvasirServer _server;

    private LiveServer(LanguageModel model, LlmEngine engine, KvasirServer server)
    {
        _model = model;
        _engine = engine;
        _server = server;
    }

    /// <summary>The server's root, for example http://127.0.0.1:41234.</summary>
    public string BaseUrl => _server.BaseAddress.ToString().TrimEnd('/');

    public static async Task<LiveServer> StartAsync(bool prefixCaching = true)
    {
        var model = LanguageModel.Open(TinyModel.Value);
        var options = new EngineOptions { KvCacheMemoryBytes = 8L << 20, MaxNumSeqs = 16, MaxNumBatchedTokens = 512, EnablePrefixCaching = prefixCaching };
        var engine = LlmEngine.Create(model, options, null, "tiny");
        var server = KvasirServer.Create(new EngineLoop(engine), new ServerOptions { Host = "127.0.0.1", Port = 0 });
        await server.StartAsync();
        return new LiveServer(model, engine, server);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _engine.Dispose();
        _model.Dispose();
    }
}
