using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;
using static Kvasir.Core.Tests.Scheduling.SchedulerHarness;

namespace Kvasir.Core.Tests.Scheduling;

public class AbortTests
{
    [Fact]
    public void AbortWhileQueued()
    {
        var h = new SchedulerHarness(Config(maxNumSeqs: 1), numBlocks: 16);
        h.Add("a", Range(0, 4));
        Request b = h.Add("b", Range(10, 4));
        h.Step();
        Assert.True(h.Scheduler.Abort("b"));
        Assert.Equal(RequestStatus.FinishedAborted, b.Status);
        Assert.Equal(0, h.Scheduler.NumWaitingRequests);
        Assert.Equal("a:1", h.StepText());
        Assert.Equal(["b"], h.LastOutput!.FinishedRequestIds);
        Assert.False(h.Scheduler.Abort("b"));
        Assert.False(h.Scheduler.Abort("nobody"));
    }

    [Fact]
    public void AbortMidPrefillFreesEveryBlock()
    {
        var h = new SchedulerHarness(Config(budget: 5), numBlocks: 16);
        Request a = h.Add("a", Range(0, 12));
        Assert.Equal("a:5", h.StepText());
        Assert.Equal(2, h.Kv.NumUsedBlocks);
        Assert.True(h.Scheduler.Abort("a"));
        h.AssertAllBlocksFree();
        Assert.Equal(1, h.Kv.NumCachedBlocks);              // the full block stays findable, unreferenced
        Assert.Equal(5, a.NumComputedTokens);
    }

    [Fact]
    public void AbortMidDecodeFreesEveryBlock()
    {
        var h = new SchedulerHarness(Config(), numBlocks: 16);
        h.Add("a", Range(0, 7));
        h.Step();
        h.Step();
        h.Step();
        Assert.True(h.Scheduler.Abort("a"));
        h.AssertAllBlocksFree();
        Assert.True(h.Scheduler.IsIdle);
    }

    [Fact]
    public void AbortWhileTheStepIsInFlightFreesAtUpdate()
    {
        var h = new SchedulerHarness(Config(), numBlocks: 16);
        Request a = h.Add("a", Range(0, 7));
        h.Add("b", Range(20, 3));
        SchedulerOutput output = h.Scheduler.Schedule();
        ModelRunnerOutput ran = h.Runner.Execute(output);
        Assert.True(h.Scheduler.Abort("a"));
        Assert.Equal(2, h.Kv.GetBlockIds(a).Length);     // the runner may still be writing them
        Assert.False(h.Scheduler.TryGetRequest("a", out _));
        Assert.Equal(AddRequestStatus.Invalid, h.Scheduler.AddRequest(new Request("a", [1])).Status);

        UpdateResult result = h.Scheduler.Update(output, ran);
        Assert.Empty(result.Finished);
        Assert.Equal(0, a.NumOutputTokens);
        Assert.Equal(RequestStatus.FinishedAborted, a.Status);
        Assert.True(h.Kv.GetBlockIds(a).IsEmpty);
        Assert.Equal("b:1", h.StepText());
        Assert.Equal(["a"], h.LastOutput!.FinishedRequestIds);
        Assert.True(h.Scheduler.Abort("b"));
        h.AssertAllBlocksFree();
    }

    [Fact]
    public void AbortWhilePreempted()
    {
        var h = new SchedulerHarness(Config(), numBlocks: 4);
        h.Add("a", Range(0, 8));
        Request b = h.Add("b", Range(100, 8));
        h.Step();
        h.Step();
        Assert.Equal(RequestStatus.Preempted, b.Status);
        Assert.True(h.Scheduler.Abort("b"));
        Assert.Equal(0, h.Scheduler.NumWaitingRequests);
        Assert.True(h.Scheduler.Abort("a"));
        h.AssertAllBlocksFree();
    }
}
