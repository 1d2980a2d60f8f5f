using System.CommandLine;
using System.Globalization;
using Kvasir.Engine;
using Kvasir.Kernels.Attention;
using Kvasir.Model;
using Kvasir.Model.ChatTemplates;
using Kvasir.Model.Gguf;
using Kvasir.Server;

namespace Kvasir.Cli.Commands;

/// <summary>
/// `kvasir serve --model m.gguf [--host 127.0.0.1] [--port 8000] [--api-key KEY[=TENANT] ...]`: the
/// OpenAI-compatible server (see docs/server.md). Prints the engine's capacity line and the URL, serves until
/// Ctrl+C or SIGTERM, then drains the requests in flight.
/// </summary>
public static class ServeCommand
{

    /// <summary>Builds the command.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string?>("--model", "-m") { Description = $"Path of a GGUF model file (default: the bundled model, {BundledModel.Path})." };
        var host = new Option<string>("--host") { Description = "Address to listen on (127.0.0.1, 0.0.0.0, ::1, localhost).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port to listen on (0: any free port).", DefaultValueFactory = _ => 8000 };
        var apiKey = new Option<string[]>("--api-key") { Description = "Accept this bearer key (repeatable); KEY=TENANT names its tenant. Tenants never share cached KV." };
        var kvMemory = new Option<string?>("--kv-cache-memory") { Description = "Bytes for the KV cache (suffixes K, M, G; default: a quarter of available memory)." };
        var blockSize = new Option<int>("--block-size") { Description = "Tokens per KV block.", DefaultValueFactory = _ => 16 };
        var maxBatched = new Option<int>("--max-num-batched-tokens") { Description = "Most tokens run in one engine step.", DefaultValueFactory = _ => 512 };
        var maxSeqs = new Option<int>("--max-num-seqs") { Description = "Most sequences in one engine step.", DefaultValueFactory = _ => 64 };
        var policy = new Option<string>("--policy") { Description = "Admission policy: fcfs, priority or lpm (longest prefix match).", DefaultValueFactory = _ => "fcfs" };
        var noPrefix = new Option<bool>("--no-prefix-caching") { Description = "Turn automatic prefix caching off (a baseline)." };
        var maxWaiting = new Option<int>("--max-waiting") { Description = "Bound of the waiting queue; beyond it requests get 429.", DefaultValueFactory = _ => 256 };
        var maxModelLen = new Option<int>("--max-model-len") { Description = "Longest sequence (prompt + output) per request (default: the model's context)." };
        var servedName = new Option<string?>("--served-model-name") { Description = "The model name clients use (default: the file's general.name or file name)." };
        var chatTemplate = new Option<string?>("--chat-template") { Description = "A Jinja chat template file that replaces the model's own." };
        var kvType = new Option<string>("--kv-type") { Description = "KV cache element type: f16 or f32.", DefaultValueFactory = _ => "f16" };
        var mmap = new Option<bool>("--mmap")
        {
            Description = "Use the model file's pages in place instead of reading the weights into huge-page memory (less memory when several processes serve one file; slower decode).",
        };
        var shutdownTimeout = new Option<double>("--shutdown-timeout") { Description = "Seconds shutdown waits for requests in flight before aborting them.", DefaultValueFactory = _ => 30 };
        var command = new Command("serve", "Serve a model over an OpenAI-compatible HTTP API (chat, completions, streaming, /metrics).")
        {
            model, host, port, apiKey, kvMemory, blockSize, maxBatched, maxSeqs, policy, noPrefix, maxWaiting, maxModelLen, servedName, chatTemplate, kvType, mmap, shutdownTimeout,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var engineOptions = new EngineOptions
            {
                KvCacheMemoryBytes = ParseBytes(parse.GetValue(kvMemory)),
                BlockSize = parse.GetValue(blockSize),
                MaxNumBatchedTokens = parse.GetValue(maxBatched),
                MaxNumSeqs = parse.GetValue(maxSeqs),
                AdmissionPolicy = parse.GetValue(policy)!,
                EnablePrefixCaching = !parse.GetValue(noPrefix),
                MaxWaitingRequests = parse.GetValue(maxWaiting),
                MaxModelLen = parse.GetValue(maxModelLen),
                KvDataType = parse.GetValue(kvType)!.ToLowerInvariant() switch
                {
                    "f16" => KvDataType.F16,
                    "f32" => KvDataType.F32,
                    var other => throw new CliException($"unknown KV type '{other}': use f16 or f32."),
                },
            };
            var templatePath = parse.GetValue(chatTemplate);
            var serverOptions = new ServerOptions
            {
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                ApiKeys = parse.GetValue(apiKey) ?? [],
                ChatTemplate = templatePath is null ? null : ReadTemplate(templatePath),
                ShutdownTimeout = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(shutdownTimeout))),
            };
            var weightMemory = parse.GetValue(mmap) ? WeightMemory.Mapped : WeightMemory.Auto;
            return await RunAsync(parse.GetValue(model), parse.GetValue(servedName), engineOptions, serverOptions, output, error, cancellationToken, weightMemory).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Loads the model, starts the engine and the server, serves until cancelled, then drains and stops.</summary>
    public static async Task<int> RunAsync(string? modelPath, string? servedModelName, EngineOptions engineOptions, ServerOptions serverOptions,
        TextWriter output, TextWriter error, CancellationToken cancellationToken, WeightMemory weightMemory = WeightMemory.Auto)
    {
        ArgumentNullException.ThrowIfNull(engineOptions);
        ArgumentNullException.ThrowIfNull(serverOptions);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (serverOptions.Validate() is { } problem)
        {
            throw new CliException(problem);
        }

        modelPath = BundledModel.Resolve(modelPath);
        using var model = CliModel.Guard(() => LanguageModel.Open(modelPath, weightMemory));
        long weightBytes = model.File.Tensors.Sum(t => t.ByteSize);
        output.WriteLine(model.File.Memory == WeightMemory.Resident
            ? $"Weights: {weightBytes / 1e6:F1} MB read into huge-page memory (--mmap uses the file's pages in place)."
            : $"Weights: {weightBytes / 1e6:F1} MB used in place in the mapped file.");
        LlmEngine engine;
        try
        {
            engine = LlmEngine.Create(model, engineOptions, output, servedModelName);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }

        using (engine)
        {
            var loop = new EngineLoop(engine);
            KvasirServer server;
            try
            {
                server = KvasirServer.Create(loop, serverOptions, error);
            }
            catch (ChatTemplateException e)
            {
                throw new CliException($"the chat template does not parse: {e.Message}");
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message);
            }

            await using (server.ConfigureAwait(false))
            {
                try
                {
                    await server.StartAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    throw new CliException($"cannot listen on {serverOptions.Host}:{serverOptions.Port}: {e.Message}");
                }

                if (server.Prompts.Warning is { } warning)
                {
                    error.WriteLine("warning: " + warning);
                }

                var keys = serverOptions.ApiKeys.Count == 0 ? "no API key required" : $"{serverOptions.ApiKeys.Count} API key(s)";
                output.WriteLine($"Serving '{engine.ModelName}' at {server.BaseAddress.ToString().TrimEnd('/')} (OpenAI API under /v1; chat template: {server.Prompts.TemplateOrigin}; {keys}). Ctrl+C stops.");
                output.Flush();
                await server.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
                output.WriteLine("Stopped.");
            }
        }

        return 0;
    }

    /// <summary>Parses a byte count with an optional K, M or G suffix (powers of 1024); null or empty gives 0 (the default).</summary>
    public static long ParseBytes(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return 0;
        }

        var t = text.Trim().ToUpperInvariant().TrimEnd('B');
        long scale = 1;
        if (t.Length > 0 && t[^1] is 'K' or 'M' or 'G')
        {
            scale = t[^1] switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            t = t[..^1];
        }

        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0) || value * scale > long.MaxValue)
        {
            throw new CliException($"--kv-cache-memory '{text}' is not a byte count: give for example 268435456, 256M or 2G.");
        }

        return (long)(value * scale);
    }

    private static string ReadTemplate(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read the chat template '{path}': {e.Message}");
        }
    }
}
