using System.Net;
using Kvasir.Cli;

namespace Kvasir.Server.Tests;

/// <summary>The real `kvasir serve` entry point (Program.Run) on a background thread.</summary>
public sealed class ServeCommandTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServeStartsAnswersAndStops(bool bundledModel)
    {
        var name = "serve-entry-" + Guid.NewGuid().ToString("N")[..8];
        var started = new TaskCompletionSource<KvasirServer>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnStarted(KvasirServer server)
        {
            if (server.Loop.Engine.ModelName == name)
            {
                started.TrySetResult(server);
            }
        }

        var output = new StringWriter();
        var error = new StringWriter();
        var syncOut = TextWriter.Synchronized(output);
        var exit = -1;
        KvasirServer.Started += OnStarted;
        try
        {
            // Without --model, serve uses the model bundled with the program (the README's first command).
            // The bundled model's weights are read into huge-page memory (where Linux has them); --mmap maps the file.
            string[] modelArgs = bundledModel ? [] : ["--model", TestModels.Tiny, "--mmap"];
            var thread = new Thread(() => exit = Program.Run(
                ["serve", .. modelArgs, "--port", "0", "--kv-cache-memory", "4M", "--served-model-name", name, "--api-key", "secret=team", "--policy", "lpm"],
                syncOut, TextWriter.Synchronized(error))) { IsBackground = true };
            thread.Start();
            var server = await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            http.DefaultRequestHeaders.Authorization = new("Bearer", "secret");
            var (status, json, _) = await Json.PostAsync(http, "/v1/chat/completions", $$"""{"model":"{{name}}","messages":[{"role":"user","content":"hi"}],"max_tokens":3}""");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(name, json.GetProperty("model").GetString());

            await server.StopAsync();
            Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "serve did not return after the server stopped");
        }
        finally
        {
            KvasirServer.Started -= OnStarted;
        }

        Assert.True(exit == 0, error.ToString());
        var text = output.ToString();
        Assert.Contains("KV cache:", text);
        Assert.Contains(
            bundledModel && Kvasir.Kernels.HugePageMemory.IsAvailable ? "MB read into huge-page memory" : "MB used in place in the mapped file", text);
        Assert.Contains($"Serving '{name}' at http://127.0.0.1:", text);
        Assert.Contains("Stopped.", text);
    }

    [Fact]
    public void BadFlagsAreOneClearLine()
    {
        var error = new StringWriter();
        Assert.Equal(2, Program.Run(["serve", "--model", TestModels.Tiny, "--host", "example.com"], new StringWriter(), error));
        Assert.Contains("--host 'example.com' is not an IP address", error.ToString());
        error = new StringWriter();
        Assert.Equal(2, Program.Run(["serve", "--model", TestModels.Tiny, "--kv-cache-memory", "lots"], new StringWriter(), error));
        Assert.Contains("--kv-cache-memory 'lots'", error.ToString());
        Assert.Equal(256L << 20, Kvasir.Cli.Commands.ServeCommand.ParseBytes("256M"));
    }
}
