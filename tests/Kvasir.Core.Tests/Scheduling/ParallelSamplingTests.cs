using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;
using static Kvasir.Core.Tests.Scheduling.SchedulerHarness;

namespace Kvasir.Core.Tests.Scheduling;

public class ParallelSamplingTests
{
    [Fact]
    public void ChildrenForkAtTheEndOfThePromptAndShareItsBlocks()
    {
        var h = new SchedulerHarness(Config(), numBlocks: 16);
        h.Runner.Sampler = (r, i) => 50 + i;
        Request p = h.Add("p", Range(0, 6), maxTokens: 3, n: 3);

        Assert.Equal("p:6", h.StepText());
        Assert.Equal(3, h.LastOutput!.ScheduledRequests[0].NumSamples);
        Assert.Equal(["p#1", "p#2"], h.LastUpdate!.Forked.Select(c => c.RequestId));
        Request c1 = h.All["p#1"];
        Request c2 = h.All["p#2"];
        Assert.Equal([50], p.OutputTokenIds.ToArray());
        Assert.Equal([51], c1.OutputTokenIds.ToArray());
        Assert.Equal([52], c2.OutputTokenIds.ToArray());
        Assert.Equal("p", c2.ParentRequestId);
        Assert.Equal(2, c2.SampleIndex);
        Assert.Equal(6, c1.NumComputedTokens);
        Assert.Equal(Range(0, 6), c1.PromptTokenIds.ToArray());
        Assert.Equal([0, 1], h.Kv.GetBlockIds(c1).ToArray());
        Assert.Equal([0, 1], h.Kv.GetBlockIds(c2).ToArray());
        Assert.Equal(3, h.Kv.Pool.GetRefCount(0));
        Assert.Equal(3, h.Kv.Pool.GetRefCount(1));
        Assert.Equal(2, h.Kv.NumUsedBlocks);
        Assert.Equal(3, h.Scheduler.NumRunningRequests);

        // Each writes position 6 into the shared partial block 1: copies for all but the last writer.
        h.Runner.Sampler = (r, i) => 60;
        Assert.Equal("p:1 p#1:1 p#2:1", h.StepText());
        Assert.Equal([new BlockCopy(1, 2), new BlockCopy(1, 3)], h.LastOutput!.BlockCopies);
        Assert.Equal([0, 2], h.Kv.GetBlockIds(p).ToArray());
        Assert.Equal([0, 3], h.Kv.GetBlockIds(c1).ToArray());
        Assert.Equal([0, 1], h.Kv.GetBlockIds(c2).ToArray());
        Assert.Equal(1, h.LastOutput.ScheduledRequests[0].NumSamples); // the parent forks once

        h.RunToIdle();
        Assert.All(new[] { p, c1, c2 }, r => Assert.Equal(RequestStatus.FinishedLength, r.Status));
        Assert.All(new[] { p, c1, c2 }, r => Assert.Equal(3, r.NumOutputTokens));
        h.AssertAllBlocksFree();
    }

    [Fact]
    public void ChildrenAreReservedAgainstMaxNumSeqs()
    {
        var h = new SchedulerHarness(Config(maxNumSeqs: 3), numBlocks: 16);
        h.Add("p", Range(0, 6), maxTokens: 2, n: 3);
        h.Add("x", Range(100, 2));
        Assert.Equal("p:6", h.StepText());                     // x would take a seat a child needs
        Assert.Equal("p:1 p#1:1 p#2:1", h.StepText());         // the group finishes
        Assert.Equal("x:2", h.StepText());
    }

    [Fact]
    public void GroupThatFinishesAtOnceLeavesNothingBehind()
    {
        var h = new SchedulerHarness(Config(), numBlocks: 16);
        h.Add("p", Range(0, 6), maxTokens: 1, n: 4);
        h.Step();
        Assert.Equal(3, h.LastUpdate!.Forked.Count);
        Assert.Equal(4, h.LastUpdate.Finished.Count);
        Assert.True(h.Scheduler.IsIdle);
        h.AssertAllBlocksFree();
        Assert.Equal(["p#1", "p#2", "p#3", "p"], h.Scheduler.Schedule().FinishedRequestIds);
    }

    [Fact]
    public void ParentAbortedBeforeItsPromptCompletesForksNothing()
    {
        var h = new SchedulerHarness(Config(budget: 4), numBlocks: 16);
        h.Add("p", Range(0, 6), n: 3);
        h.Add("x", Range(100, 2));
        Assert.Equal("p:4", h.StepText());
        Assert.True(h.Scheduler.Abort("p"));
        Assert.Equal("x:2", h.StepText());
        Assert.Empty(h.LastUpdate!.Forked);
        Assert.Equal(1, h.Scheduler.NumRunningRequests);
    }

    [Fact]
    public void PreemptedChildResumesFromTheSharedPromptBlocks()
    {
        // 3 blocks of 4: the prompt holds 2 (one full, one partial shared by 3); the three decodes want 2 copies, 1 is free.
        var h = new SchedulerHarness(Config() with { ReadmissionWatermark = 0 }, numBlocks: 3);
        h.Add("p", Range(0, 6), maxTokens: 2, n: 3);
        h.Step();
        Assert.Equal("p:1 p#1:1", h.StepText());               // p copies; p#2 (newest) preempted, so p#1 writes in place
        Assert.Equal(["p#2"], h.LastOutput!.PreemptedRequestIds);
        Request c2 = h.All["p#2"];
        Assert.Equal(RequestStatus.Preempted, c2.Status);
        Assert.Equal("p#2:3", h.StepText());                   // p and p#1 finished; block 0 is a hit
        Assert.Equal(7, c2.NumComputedTokens);
        Assert.Equal(4, h.Scheduler.NumPrefixCacheHitTokens);
        h.RunToIdle();
        Assert.Equal(2, c2.NumOutputTokens);
        h.AssertAllBlocksFree();
    }
}
