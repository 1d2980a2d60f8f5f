using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;
using static Kvasir.Core.Tests.Scheduling.SchedulerHarness;

namespace Kvasir.Core.Tests.Scheduling;

public class UpdateTests
{
    private const int Eos = 2;

    /// <summary>A runner that samples 10, 11, 12, ... per request (the token's output index + 10), and EOS at output index <paramref name="eosAt"/>.</summary>
    private static SchedulerHarness Harness(int eosAt = -1, int maxModelLen = 1024, int numBlocks = 64)
    {
        var h = new SchedulerHarness(Config(maxModelLen: maxModelLen), numBlocks);
        h.Runner.Sampler = (r, _) => r.NumOutputTokens == eosAt ? Eos : 10 + r.NumOutputTokens;
        return h;
    }

    private static Request Req(string id, int promptLength, int maxTokens = int.MaxValue, bool ignoreEos = false, int[]? stop = null) =>
        new(id, Range(100, promptLength)) { MaxTokens = maxTokens, EosTokenIds = [Eos], IgnoreEos = ignoreEos, StopTokenIds = stop ?? [] };

    [Fact]
    public void EndOfSequenceStopsAndFreesTheBlocks()
    {
        SchedulerHarness h = Harness(eosAt: 2);
        Request r = h.Add(Req("r", 5));
        h.Step();
        h.Step();
        Assert.Empty(h.LastUpdate!.Finished);
        h.Step();
        Assert.Equal([r], h.LastUpdate!.Finished);
        Assert.Equal(RequestStatus.FinishedStopped, r.Status);
        Assert.Equal([10, 11, Eos], r.OutputTokenIds.ToArray()); // the stop token is kept
        Assert.Equal(7, r.NumComputedTokens);
        h.AssertAllBlocksFree();
        Assert.True(h.Scheduler.IsIdle);
        Assert.False(h.Scheduler.TryGetRequest("r", out _));
        Assert.Equal(["r"], h.Scheduler.Schedule().FinishedRequestIds);
    }

    [Fact]
    public void IgnoreEosKeepsGoingButStopTokensStillApply()
    {
        SchedulerHarness h = Harness(eosAt: 0);
        Request r = h.Add(Req("r", 3, ignoreEos: true, stop: [13]));
        h.RunToIdle();
        Assert.Equal(RequestStatus.FinishedStopped, r.Status);
        Assert.Equal([Eos, 11, 12, 13], r.OutputTokenIds.ToArray());
    }

    [Fact]
    public void MaxTokensFinishesWithLength()
    {
        SchedulerHarness h = Harness();
        Request r = h.Add(Req("r", 3, maxTokens: 4));
        Assert.Equal(4, h.RunToIdle());
        Assert.Equal(RequestStatus.FinishedLength, r.Status);
        Assert.Equal(4, r.NumOutputTokens);
    }

    [Fact]
    public void StopTokenWinsOverLengthReachedByTheSameToken()
    {
        SchedulerHarness h = Harness(eosAt: 1);
        Request r = h.Add(Req("r", 3, maxTokens: 2));
        h.RunToIdle();
        Assert.Equal(RequestStatus.FinishedStopped, r.Status);
    }

    [Fact]
    public void ContextLengthFinishesWithLength()
    {
        SchedulerHarness h = Harness(maxModelLen: 10);
        Request r = h.Add(Req("r", 8));
        h.RunToIdle();
        Assert.Equal(RequestStatus.FinishedLength, r.Status);
        Assert.Equal(10, r.NumTokens);
        Assert.Equal(9, r.NumComputedTokens); // the last token's KV is never needed
    }

    [Fact]
    public void APoolSmallerThanTheContextCapsTheSequence()
    {
        // 3 blocks of 4 = 12 tokens < MaxModelLen 100: a lone request finishes at 12 instead of waiting forever.
        SchedulerHarness h = Harness(maxModelLen: 100, numBlocks: 3);
        Assert.Equal(12, h.Scheduler.MaxSeqLen);
        Request r = h.Add(Req("r", 8));
        h.RunToIdle(maxSteps: 10);
        Assert.Equal(RequestStatus.FinishedLength, r.Status);
        Assert.Equal(12, r.NumTokens);
        Assert.Equal(0, h.Scheduler.NumPreemptions);
    }

    [Fact]
    public void PromptOfExactlyTheContextLengthGetsOneToken()
    {
        SchedulerHarness h = Harness(maxModelLen: 8);
        Request r = h.Add(Req("r", 8));
        Assert.Equal(1, h.RunToIdle());
        Assert.Equal(RequestStatus.FinishedLength, r.Status);
        Assert.Equal(1, r.NumOutputTokens);
    }

    [Fact]
    public void TokensAfterAStopAreDropped()
    {
        SchedulerHarness h = Harness();
        Request r = h.Add(Req("r", 3));
        SchedulerOutput output = h.Scheduler.Schedule();
        UpdateResult result = h.Scheduler.Update(output, new ModelRunnerOutput([new SampledTokens("r", new[] { 5, Eos, 7 })]));
        Assert.Equal([r], result.Finished);
        Assert.Equal([5, Eos], r.OutputTokenIds.ToArray());
    }

    [Fact]
    public void SeveralSampledTokensAreAppendedAndScheduledNext()
    {
        SchedulerHarness h = Harness();
        Request r = h.Add(Req("r", 3));
        SchedulerOutput output = h.Scheduler.Schedule();
        h.Runner.Execute(output); // writes the fake KV; its samples are replaced by two tokens
        h.Scheduler.Update(output, new ModelRunnerOutput([new SampledTokens("r", new[] { 5, 6 })]));
        Assert.Equal(5, r.NumTokens);
        Assert.Equal("r:2", h.StepText());
    }

    [Fact]
    public void MismatchedRunnerOutputIsRejectedWithoutChangingAnything()
    {
        SchedulerHarness h = Harness();
        Request r = h.Add(Req("r", 3));
        SchedulerOutput output = h.Scheduler.Schedule();
        var e1 = Assert.Throws<ArgumentException>(() => h.Scheduler.Update(output, ModelRunnerOutput.Empty));
        Assert.Contains("0 sampled entries", e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<ArgumentException>(() => h.Scheduler.Update(output, new ModelRunnerOutput([new SampledTokens("x", new[] { 5 })])));
        Assert.Contains("'x'", e2.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => h.Scheduler.Update(output, new ModelRunnerOutput([new SampledTokens("r", Array.Empty<int>())])));
        Assert.Equal(0, r.NumComputedTokens);
        h.Scheduler.Update(output, h.Runner.Execute(output));
        Assert.Equal(3, r.NumComputedTokens);
    }

    [Fact]
    public void EngineFinishesOnAStopString()
    {
        SchedulerHarness h = Harness();
        Request r = h.Add(Req("r", 3));
        h.Step();
        Assert.True(h.Scheduler.Finish("r", RequestStatus.FinishedStopped));
        Assert.False(h.Scheduler.Finish("r", RequestStatus.FinishedStopped));
        Assert.Equal(RequestStatus.FinishedStopped, r.Status);
        h.AssertAllBlocksFree();
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Scheduler.Finish("x", RequestStatus.Running));
    }
}
