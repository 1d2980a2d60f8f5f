using System.Globalization;

namespace Kvasir.Server.Tests;

/// <summary>/metrics in Prometheus text with vLLM's names and a model_name label.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task MetricsCountWhatWasServed()
    {
        await using var s = await TestServer.StartAsync(servedName: "metrics-model");
        for (var i = 0; i < 2; i++)
        {
            var (status, _, _) = await Json.PostAsync(s.Http, "/v1/completions", """{"prompt":"The same prompt twice, long enough to fill at least one block of the cache.","max_tokens":3,"ignore_eos":true}""");
            Assert.Equal(System.Net.HttpStatusCode.OK, status);
        }

        var response = await s.Http.GetAsync("/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var samples = Parse(text);
        const string L = "model_name=\"metrics-model\"";
        Assert.Equal(0, samples[$"vllm:num_requests_running{{{L}}}"]);
        Assert.Equal(0, samples[$"vllm:num_requests_waiting{{{L}}}"]);
        Assert.Equal(0, samples[$"vllm:kv_cache_usage_perc{{{L}}}"]);
        Assert.Equal(6, samples[$"vllm:generation_tokens_total{{{L}}}"]);
        var prompt = s.Model.Tokenizer.Encode("The same prompt twice, long enough to fill at least one block of the cache.", addSpecial: true, parseSpecial: true).Length;
        Assert.Equal(2 * prompt, samples[$"vllm:prompt_tokens_total{{{L}}}"]);
        Assert.True(samples[$"vllm:prefix_cache_hits_total{{{L}}}"] >= s.Engine.BlockSize);
        Assert.True(samples[$"vllm:prefix_cache_queries_total{{{L}}}"] >= samples[$"vllm:prefix_cache_hits_total{{{L}}}"]);
        Assert.Equal(0, samples[$"vllm:num_preemptions_total{{{L}}}"]);
        Assert.Equal(2, samples[$"vllm:request_success_total{{{L},finished_reason=\"length\"}}"]);
        Assert.Equal(2, samples[$"vllm:e2e_request_latency_seconds_count{{{L}}}"]);
        Assert.Equal(2, samples[$"vllm:time_to_first_token_seconds_bucket{{{L},le=\"+Inf\"}}"]);
        Assert.Equal(2, samples[$"vllm:time_per_output_token_seconds_count{{{L}}}"]);
        Assert.True(samples[$"vllm:iteration_tokens_total_count{{{L}}}"] >= 6);
        Assert.Contains("# TYPE vllm:e2e_request_latency_seconds histogram", text);
        Assert.Contains("# TYPE vllm:prompt_tokens_total counter", text);
        Assert.Contains("# TYPE vllm:num_requests_running gauge", text);
    }

    /// <summary>Every sample line "name{labels} value" → value; also checks each line is well formed.</summary>
    private static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                Assert.Matches(@"^# (HELP|TYPE) [a-z0-9_:]+ .+$", line);
                continue;
            }

            var space = line.LastIndexOf(' ');
            Assert.True(space > 0, line);
            var value = line[(space + 1)..];
            samples[line[..space]] = value == "+Inf" ? double.PositiveInfinity : double.Parse(value, CultureInfo.InvariantCulture);
        }

        return samples;
    }
}
