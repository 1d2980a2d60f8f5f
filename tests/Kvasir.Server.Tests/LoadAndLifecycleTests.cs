using System.Net;
using System.Text;
using Kvasir.Engine;

namespace Kvasir.Server.Tests;

/// <summary>Disconnects, a full queue, shutdown: requests never leave KV blocks behind and the server answers each case.</summary>
public sealed class LoadAndLifecycleTests
{
    private const string LongStream = """{"prompt":"Tell me everything.","max_tokens":3500,"ignore_eos":true,"stream":true}""";

    [Fact]
    public async Task ClientThatDropsTheStreamAbortsItsRequestAndFreesItsBlocks()
    {
        await using var s = await TestServer.StartAsync(TestModels.Slow, new EngineOptions { KvCacheMemoryBytes = 16L << 20 });
        var total = s.Engine.NumBlocks;
        var abortedBefore = s.Engine.Metrics.RequestsFinished.Abort;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(LongStream, Encoding.UTF8, "application/json") })
        using (var response = await s.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var events = 0;
            while (events < 3 && await reader.ReadLineAsync() is { } line)
            {
                events += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
            }

            Assert.Equal(3, events);
            Assert.True(s.Engine.NumFreeBlocks < total, "the running request holds blocks");
        }

        // Dropped: the server sees the disconnect, aborts, and the engine frees the blocks within a step.
        await WaitUntil(() => s.Engine.NumFreeBlocks == total && s.Engine.Metrics.RequestsFinished.Abort == abortedBefore + 1, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task FullWaitingQueueGets429WithRetryAfter()
    {
        await using var s = await TestServer.StartAsync(TestModels.Slow, new EngineOptions { KvCacheMemoryBytes = 16L << 20, MaxNumSeqs = 1, MaxWaitingRequests = 1 });
        using var cts = new CancellationTokenSource();
        var body = LongStream.Replace("\"stream\":true", "\"stream\":false", StringComparison.Ordinal);

        // One runs, one waits; every further one is over the bound.
        var running = s.Http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"), cts.Token);
        await WaitUntil(() => s.Engine.Metrics.NumRequestsRunning == 1, TimeSpan.FromSeconds(10));
        var waiting = s.Http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"), cts.Token);
        await WaitUntil(() => s.Engine.Metrics.NumRequestsWaiting == 1, TimeSpan.FromSeconds(10));

        var (status, json, response) = await Json.PostAsync(s.Http, "/v1/completions", """{"prompt":"one more","max_tokens":2}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Json.AssertError(json);
        Assert.Equal("rate_limit_error", json.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/health")).StatusCode);

        // Both clients give up: both requests are aborted and every block comes back.
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await WaitUntil(() => s.Engine.NumFreeBlocks == s.Engine.NumBlocks && s.Engine.Metrics.RequestsFinished.Abort == 2, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ShutdownDrainsTheRequestInFlightAndRefusesNewOnes()
    {
        await using var s = await TestServer.StartAsync(TestModels.Slow, new EngineOptions { KvCacheMemoryBytes = 16L << 20 });
        // Long enough to be seen running by the poll below: since the attention got faster this small model finished
        // 60 (and 600) tokens before the poll ever saw the request running (seen: finished, never running), 2,000
        // were seen every time; short enough to finish well within the host's 30 s shutdown timeout in a Debug build.
        // Under the load of a whole test run the poll can still miss it (seen once: its thread came back only after the
        // request had finished), so a request that finished unseen is followed by another, a few times at most.
        var inFlight = Json.PostAsync(s.Http, "/v1/completions", """{"prompt":"Keep going.","max_tokens":2000,"ignore_eos":true}""");
        for (int attempt = 1; ; attempt++)
        {
            await WaitUntil(() => s.Engine.Metrics.NumRequestsRunning == 1 || inFlight.IsCompleted, TimeSpan.FromSeconds(30));
            if (s.Engine.Metrics.NumRequestsRunning == 1)
            {
                break;
            }

            Assert.True(attempt < 5, "the in-flight request finished before the poll saw it running, five times");
            Assert.Equal(HttpStatusCode.OK, (await inFlight).Status);
            inFlight = Json.PostAsync(s.Http, "/v1/completions", """{"prompt":"Keep going.","max_tokens":2000,"ignore_eos":true}""");
        }

        var stopping = s.Server.StopAsync();
        await WaitUntil(() => s.Loop.IsShuttingDown, TimeSpan.FromSeconds(10));
        var refused = await s.Loop.SubmitAsync(new EngineRequest { RequestId = "late", PromptTokenIds = [1, 2, 3], Sampling = new() { MaxTokens = 2 } });
        Assert.Equal(SubmitStatus.ShuttingDown, refused.Status);

        var (status, json, _) = await inFlight;
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("length", json.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(2000, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        await stopping;
        Assert.Equal(s.Engine.NumBlocks, s.Engine.NumFreeBlocks);
    }

    internal static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(10);
        }
    }
}
