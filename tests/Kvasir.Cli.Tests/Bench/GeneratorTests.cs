using Kvasir.Cli.Bench;

namespace Kvasir.Cli.Tests.Bench;

public sealed class GeneratorTests
{
    private static readonly WordText Text = new(1.0);

    [Fact]
    public void RandomIsDeterministicForASeedAndHonoursTheRange()
    {
        var options = new DatasetOptions { NumPrompts = 50, RandomInputLen = 100, RandomOutputLen = 20, RandomRangeRatio = 0.5, Seed = 7 };
        var a = RandomDataset.Generate(options, Text);
        var b = RandomDataset.Generate(options, Text);
        var c = RandomDataset.Generate(options with { Seed = 8 }, Text);
        Assert.Equal(50, a.Count);
        Assert.Equal(a.Select(r => r.PromptText), b.Select(r => r.PromptText));
        Assert.Equal(a.Select(r => r.OutputLen), b.Select(r => r.OutputLen));
        Assert.NotEqual(a.Select(r => r.PromptText), c.Select(r => r.PromptText));
        Assert.All(a, r => Assert.InRange(r.PromptLen, 50, 150));
        Assert.All(a, r => Assert.InRange(r.OutputLen, 10, 30));
        Assert.All(a, r => Assert.Equal(r.PromptLen, r.PromptText.Split(' ').Length));
        Assert.True(a.Select(r => r.PromptLen).Distinct().Count() > 10);
    }

    [Fact]
    public void WordCountFollowsTokensPerWord()
    {
        var text = new WordText(2.0);
        Assert.Equal(50, text.Tokens(new Random(1), 100).Split(' ').Length);
        Assert.Equal(1, text.WordsFor(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WordText(0));
    }

    [Fact]
    public void SharedPrefixGroupsReallyShareTheirSystemPrompt()
    {
        var options = new DatasetOptions { SpNumGroups = 4, SpPromptsPerGroup = 5, SpSystemPromptLen = 60, SpQuestionLen = 10, SpOutputLen = 7, Seed = 3 };
        var requests = SharedPrefixDataset.Generate(options, Text);
        Assert.Equal(20, requests.Count);
        var groups = requests.GroupBy(r => r.Messages[0].Content).ToList();
        Assert.Equal(4, groups.Count);
        Assert.All(groups, g => Assert.Equal(5, g.Count()));
        Assert.All(groups, g => Assert.Equal(60, g.Key.Split(' ').Length));
        Assert.All(requests, r => Assert.Equal("system", r.Messages[0].Role));
        Assert.All(requests, r => Assert.Equal(7, r.OutputLen));
        Assert.All(requests, r => Assert.StartsWith(r.Messages[0].Content + "\n", r.PromptText));
        Assert.Equal(20, requests.Select(r => r.Messages[1].Content).Distinct().Count());
        // Shuffled: the first five are not all one group.
        Assert.True(requests.Take(5).Select(r => r.Messages[0].Content).Distinct().Count() > 1);
        Assert.Equal(requests.Select(r => r.PromptText), SharedPrefixDataset.Generate(options, Text).Select(r => r.PromptText));
    }

    [Fact]
    public void MultiTurnHistoryGrowsTurnByTurn()
    {
        var options = new DatasetOptions { NumPrompts = 9, MtTurns = 3, MtUserLen = 12, MtOutputLen = 5 };
        var requests = MultiTurnDataset.Generate(options, Text);
        Assert.Equal(9, requests.Count);
        // Turn-major order: conversations 0,1,2 at turn 1, then at turn 2, then turn 3.
        Assert.Equal([1, 1, 1, 3, 3, 3, 5, 5, 5], requests.Select(r => r.Messages.Count));
        Assert.Equal([1, 1, 1, 2, 2, 2, 3, 3, 3], requests.Select(r => r.Turn));
        Assert.Equal([-1, -1, -1, 0, 1, 2, 3, 4, 5], requests.Select(r => r.After));
        for (var c = 0; c < 3; c++)
        {
            var t1 = requests[c];
            var t2 = requests[3 + c];
            var t3 = requests[6 + c];
            Assert.StartsWith(t1.PromptText, t2.PromptText);
            Assert.StartsWith(t2.PromptText, t3.PromptText);
            Assert.Equal("assistant", t2.Messages[1].Role);
            Assert.Equal(12 + 5 + 12, t2.PromptLen);
        }
    }

    [Fact]
    public void MooncakeRequestsSharingHashIdsSharePrefixes()
    {
        var options = new DatasetOptions { MooncakeBlockSize = 64, NumPrompts = 100 };
        var requests = MooncakeTrace.Load(BenchData.Mooncake, options, Text);
        Assert.Equal(8, requests.Count);
        Assert.Equal([0, 0.1, 0.25, 0.3, 0.52, 0.6, 0.75, 0.9], requests.Select(r => r.ArrivalSeconds!.Value));
        Assert.Equal([150, 170, 120, 190, 100, 64, 130, 180], requests.Select(r => r.PromptLen));
        var words = requests.Select(r => r.PromptText.Split(' ')).ToList();
        Assert.All(requests, r => Assert.Equal(r.PromptLen, r.PromptText.Split(' ').Length));
        // Requests 0 and 1 share hash ids 0, 1 (128 words) and differ in the third block.
        Assert.Equal(words[0][..128], words[1][..128]);
        Assert.NotEqual(words[0][128..150], words[1][128..150]);
        // Request 3 repeats request 0's blocks 0, 1, 2 in full (its prefix is request 0's whole prompt).
        Assert.StartsWith(requests[0].PromptText, requests[3].PromptText);
        Assert.Equal(words[2][..64], words[4][..64]);
        Assert.NotEqual(words[0][..64], words[2][..64]);
        Assert.Equal(requests.Select(r => r.PromptText), MooncakeTrace.Load(BenchData.Mooncake, options, Text).Select(r => r.PromptText));
    }

    [Fact]
    public void BurstGptRowsBecomeRequestsAtTheirTimestamps()
    {
        var requests = BurstGptTrace.Load(BenchData.BurstGpt, new DatasetOptions { NumPrompts = 10 }, Text);
        Assert.Equal([40, 64, 32, 48], requests.Select(r => r.PromptLen));
        Assert.Equal([8, 6, 7, 5], requests.Select(r => r.OutputLen));
        Assert.Equal([0, 0.2, 1.0, 1.4], requests.Select(r => Math.Round(r.ArrivalSeconds!.Value, 6)));
        Assert.Equal(2, BurstGptTrace.Load(BenchData.BurstGpt, new DatasetOptions { NumPrompts = 2 }, Text).Count);
        var bad = new StringReader("Timestamp,Request tokens\n1,2\n");
        Assert.Throws<CliException>(() => BurstGptTrace.Parse(bad, new DatasetOptions(), Text));
    }

    [Fact]
    public void ShareGptTakesTheFirstExchange()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """
                [{"id": "a", "conversations": [{"from": "human", "value": "one two three"}, {"from": "gpt", "value": "a b c d e f"}]},
                 {"id": "b", "conversations": [{"from": "human", "value": "only a question"}]},
                 {"id": "c", "conversations": [{"from": "human", "value": "four five"}, {"from": "gpt", "value": "x y"}]}]
                """);
            var requests = ShareGptDataset.Load(path, new DatasetOptions { NumPrompts = 10 }, Text);
            Assert.Equal(2, requests.Count);
            var a = Assert.Single(requests, r => r.PromptText == "one two three");
            Assert.Equal(6, a.OutputLen);
            Assert.Equal(3, a.PromptLen);
            Assert.All(ShareGptDataset.Load(path, new DatasetOptions { NumPrompts = 10, ShareGptOutputLen = 4 }, Text), r => Assert.Equal(4, r.OutputLen));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GammaArrivalsHaveTheRequestedMeanAndAreDeterministic()
    {
        foreach (var burstiness in new[] { 0.5, 1.0, 4.0 })
        {
            var offsets = ArrivalSchedule.Gamma(4001, 20, burstiness, 11);
            Assert.Equal(0, offsets[0]);
            Assert.True(offsets.Zip(offsets.Skip(1)).All(p => p.Second >= p.First));
            var meanGap = offsets[^1] / 4000;
            Assert.InRange(meanGap, 0.05 * 0.93, 0.05 * 1.07);
            var gaps = offsets.Zip(offsets.Skip(1), (x, y) => y - x).ToList();
            // The coefficient of variation of a gamma with shape k is 1 / sqrt(k).
            var cv = LatencyStats.Std(gaps) / LatencyStats.Mean(gaps);
            Assert.InRange(cv, 0.9 / Math.Sqrt(burstiness), 1.1 / Math.Sqrt(burstiness));
            Assert.Equal(offsets, ArrivalSchedule.Gamma(4001, 20, burstiness, 11));
        }

        Assert.All(ArrivalSchedule.Gamma(5, double.PositiveInfinity, 1, 0), o => Assert.Equal(0, o));
    }

    [Fact]
    public void TraceOffsetsAreScaledTimestampsUnlessARateIsGiven()
    {
        var requests = MooncakeTrace.Load(BenchData.Mooncake, new DatasetOptions { MooncakeBlockSize = 64 }, Text);
        var offsets = BenchWorkload.Offsets(requests, new BenchOptions { TimeScale = 2 }, 0);
        Assert.Equal(requests.Select(r => r.ArrivalSeconds!.Value * 2), offsets);
        Assert.Equal(requests.Select(r => r.ArrivalSeconds!.Value), BenchWorkload.Offsets(requests, new BenchOptions(), 0));
        var poisson = BenchWorkload.Offsets(requests, new BenchOptions { RequestRate = 5 }, 0);
        Assert.NotEqual(offsets, poisson);
    }

    [Fact]
    public void StatsMatchNumpy()
    {
        double[] sorted = [1, 2, 3, 4, 10];
        Assert.Equal(3, LatencyStats.Percentile(sorted, 50));
        Assert.Equal(7.6, LatencyStats.Percentile(sorted, 90), 10);
        Assert.Equal(9.76, LatencyStats.Percentile(sorted, 99), 10);
        Assert.Equal(4, LatencyStats.Mean(sorted));
        Assert.Equal(Math.Sqrt(10), LatencyStats.Std(sorted), 10);
        Assert.Equal("p99", LatencyStats.Key(99));
        Assert.Equal("p99.9", LatencyStats.Key(99.9));
    }

    [Fact]
    public void ParsersValidateAtTheEdge()
    {
        var slos = SloParser.ParseGoodput(["ttft:500", "TPOT:50.5"]);
        Assert.Equal(500, slos["ttft"]);
        Assert.Equal(50.5, slos["tpot"]);
        Assert.Throws<CliException>(() => SloParser.ParseGoodput(["latency:5"]));
        Assert.Throws<CliException>(() => SloParser.ParseGoodput(["ttft:-1"]));
        Assert.Equal([50, 90, 99.9], SloParser.ParsePercentiles("50, 90,99.9"));
        Assert.Throws<CliException>(() => SloParser.ParsePercentiles("0,50"));
        Assert.Equal(double.PositiveInfinity, SloParser.ParseRate("inf"));
        Assert.Equal(2.5, SloParser.ParseRate("2.5"));
        Assert.Throws<CliException>(() => SloParser.ParseRate("fast"));
    }

    [Fact]
    public void PrometheusTextSumsOverLabels()
    {
        var values = PrometheusText.Parse("""
            # HELP vllm:num_preemptions_total x
            # TYPE vllm:num_preemptions_total counter
            vllm:num_preemptions_total{model_name="m"} 3
            vllm:request_success_total{model_name="m",finished_reason="stop"} 2
            vllm:request_success_total{model_name="m",finished_reason="length"} 5
            vllm:kv_cache_usage_perc{model_name="m"} 0.25
            """);
        Assert.Equal(3, values["vllm:num_preemptions_total"]);
        Assert.Equal(7, values["vllm:request_success_total"]);
        Assert.Equal(0.25, values["vllm:kv_cache_usage_perc"]);
    }

    [Fact]
    public void SlosJudgeEachMetric()
    {
        var o = new RequestOutcome { Success = true, Ttft = 0.1, Latency = 0.5, OutputTokens = 5 };
        Assert.Equal(0.1, o.Tpot, 10);
        Assert.True(BenchReport.MeetsSlos(o, new Dictionary<string, double> { ["ttft"] = 100, ["tpot"] = 100, ["e2el"] = 500 }));
        Assert.False(BenchReport.MeetsSlos(o, new Dictionary<string, double> { ["ttft"] = 99 }));
        Assert.False(BenchReport.MeetsSlos(o, new Dictionary<string, double> { ["tpot"] = 99 }));
        Assert.False(BenchReport.MeetsSlos(o with { Success = false }, new Dictionary<string, double>()));
    }

    [Fact]
    public void ThroughputBucketsAccountForEveryOutputToken()
    {
        RequestOutcome[] outcomes =
        [
            new() { Success = true, StartSeconds = 0, Ttft = 0.1, Itls = [0.1, 0.1, 0.1], Latency = 0.4, OutputTokens = 8 },
            new() { Success = true, StartSeconds = 0.5, Ttft = 0.2, Itls = [0.2], Latency = 0.4, OutputTokens = 3 },
            new() { Success = false, Status = 429 },
        ];
        var run = new BenchRun { BaseUrl = "x", Model = "m", Outcomes = outcomes, Duration = 1.0, MetricDeltas = new Dictionary<string, double>(), MetricSamples = [] };
        var (seconds, perSecond) = BenchPlots.Throughput(run);
        Assert.Equal(20, seconds.Length);
        Assert.Equal(11, perSecond.Sum() * 0.05, 9);
        Assert.Equal(0.025, seconds[0], 9);
        var report = BenchReport.Create(run, new BenchOptions());
        Assert.Equal(2, report.Completed);
        Assert.Equal(1, report.RateLimited);
        Assert.Equal(11, report.Metrics["total_output_tokens"]);
        Assert.True(double.IsNaN(report.Metrics["request_goodput"]));
        // Request 0 runs 0..0.4 s, request 1 0.5..0.9 s: never both at once; all 11 tokens arrive within the first second.
        Assert.Equal(1, report.Metrics["max_concurrent_requests"]);
        Assert.Equal(11, report.Metrics["max_output_tokens_per_s"], 9);
    }
}
