using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;
using static Kvasir.Core.Tests.Scheduling.SchedulerHarness;

namespace Kvasir.Core.Tests.Scheduling;

public class TokenBudgetTests
{
    [Fact]
    public void BudgetIsSharedRunningFirstWithChunkedPrefill()
    {
        var h = new SchedulerHarness(Config(budget: 10), numBlocks: 64);
        h.Add("a", Range(0, 6));
        h.Add("b", Range(100, 6));
        h.Add("c", Range(200, 3));

        Assert.Equal("a:6 b:4", h.StepText());          // b gets what is left: a prefill chunk
        ScheduledRequest[] s1 = h.LastOutput!.ScheduledRequests;
        Assert.True(s1[0].WantLogits);
        Assert.Equal(1, s1[0].NumSamples);
        Assert.False(s1[1].WantLogits);                   // chunk ends before b's last token
        Assert.Equal(0, s1[1].NumSamples);
        Assert.Equal(10, h.LastOutput.TotalNumScheduledTokens);
        Assert.Equal(4, h.All["b"].NumComputedTokens);
        Assert.Equal(0, h.All["b"].NumOutputTokens);
        Assert.Equal(1, h.All["a"].NumOutputTokens);

        Assert.Equal("a:1 b:2 c:3", h.StepText());      // decode, end of b's prefill, c admitted
        ScheduledRequest b = h.LastOutput!.ScheduledRequests[1];
        Assert.Equal(4, b.FirstPosition);
        Assert.Equal(4, b.KvLenBefore);
        Assert.Equal([104, 105], b.TokenIds.ToArray());
        Assert.True(b.WantLogits);
        Assert.Equal(h.Kv.GetBlockIds(h.All["b"]).ToArray(), b.BlockTable);

        Assert.Equal("a:1 b:1 c:1", h.StepText());
        Assert.Equal(3, h.Scheduler.LastStepNumScheduledTokens);
        Assert.Equal(3, h.Scheduler.LastStepNumScheduledRequests);
        Assert.Equal(3, h.Scheduler.NumSteps);
    }

    [Fact]
    public void MaxNumSeqsCapsRunningRequests()
    {
        var h = new SchedulerHarness(Config(maxNumSeqs: 2), numBlocks: 64);
        h.Add("a", Range(0, 2), maxTokens: 2);
        h.Add("b", Range(10, 2));
        h.Add("c", Range(20, 2));

        Assert.Equal("a:2 b:2", h.StepText());
        Assert.Equal(1, h.Scheduler.NumWaitingRequests);
        Assert.Equal("a:1 b:1", h.StepText());          // a reaches max_tokens = 2 here
        Assert.Equal(RequestStatus.FinishedLength, h.All["a"].Status);
        Assert.Equal("b:1 c:2", h.StepText());
    }

    [Fact]
    public void LongPrefillsAreCappedAndShortPromptsPassThem()
    {
        SchedulerConfig config = Config() with { LongPrefillTokenThreshold = 4, MaxLongPartialPrefills = 1 };
        var h = new SchedulerHarness(config, numBlocks: 64);
        h.Add("A", Range(0, 20));
        h.Add("B", Range(100, 20));
        h.Add("C", Range(200, 3));

        Assert.Equal("A:4 C:3", h.StepText());          // B is a second long prefill: skipped, C passes it
        Assert.Equal("A:4 C:1", h.StepText());
        Assert.Equal("A:4 C:1", h.StepText());
        Assert.Equal("A:4 C:1", h.StepText());
        Assert.Equal("A:4 C:1 B:4", h.StepText());      // A's last 4 tokens are no longer a long prefill
        Assert.Equal("A:1 C:1 B:4", h.StepText());
    }

    [Fact]
    public void TwoLongPrefillSlotsRunTwoAtOnce()
    {
        SchedulerConfig config = Config() with { LongPrefillTokenThreshold = 4, MaxLongPartialPrefills = 2 };
        var h = new SchedulerHarness(config, numBlocks: 64);
        h.Add("A", Range(0, 20));
        h.Add("B", Range(100, 20));
        h.Add("C", Range(200, 3));
        Assert.Equal("A:4 B:4 C:3", h.StepText());
    }

    [Fact]
    public void PrefixCacheHitStartsComputedTokensHigher()
    {
        var h = new SchedulerHarness(Config(), numBlocks: 64);
        h.Add("a", Range(0, 8), maxTokens: 1);
        Assert.Equal("a:8", h.StepText());
        Assert.Equal(0, h.All["a"].NumCachedTokens);

        h.Add("b", [.. Range(0, 8), 100, 101]);
        h.Add("c", Range(0, 8));                          // fully cached: its last token still runs
        Assert.Equal("b:2 c:4", h.StepText());
        ScheduledRequest b = h.LastOutput!.ScheduledRequests[0];
        Assert.Equal(8, b.FirstPosition);
        Assert.Equal(8, b.KvLenBefore);
        Assert.Equal([100, 101], b.TokenIds.ToArray());
        Assert.Equal(8, h.All["b"].NumCachedTokens);
        Assert.Equal(4, h.All["c"].NumCachedTokens);     // at most floor((8 - 1) / 4) blocks
        Assert.Equal(12, h.Scheduler.NumPrefixCacheHitTokens);
    }

    [Fact]
    public void BlockTableArrayIsReusedUntilTheTableChanges()
    {
        var h = new SchedulerHarness(Config(), numBlocks: 64);
        h.Add("a", Range(0, 5));
        h.Step();
        int[] t1 = h.LastOutput!.ScheduledRequests[0].BlockTable;  // positions 0..4: 2 blocks
        h.Step();
        int[] t2 = h.LastOutput!.ScheduledRequests[0].BlockTable;  // position 5
        h.Step();
        h.Step();
        int[] t3 = h.LastOutput!.ScheduledRequests[0].BlockTable;  // position 7: still 2 blocks
        h.Step();
        int[] t4 = h.LastOutput!.ScheduledRequests[0].BlockTable;  // position 8: a third block
        Assert.Same(t1, t2);
        Assert.Same(t2, t3);
        Assert.NotSame(t3, t4);
        Assert.Equal([0, 1], t1);
        Assert.Equal([0, 1, 2], t4);
    }

    [Fact]
    public void EmptyStepNeedsNoUpdate()
    {
        var h = new SchedulerHarness(Config(), numBlocks: 8);
        SchedulerOutput output = h.Scheduler.Schedule();
        Assert.True(output.IsEmpty);
        Assert.Same(UpdateResult.Empty, h.Scheduler.Update(output, ModelRunnerOutput.Empty));
        Assert.True(h.Scheduler.Schedule().IsEmpty);
    }

    [Fact]
    public void ScheduleTwiceWithoutUpdateThrows()
    {
        var h = new SchedulerHarness(Config(), numBlocks: 8);
        h.Add("a", Range(0, 3));
        SchedulerOutput output = h.Scheduler.Schedule();
        Assert.Throws<InvalidOperationException>(() => h.Scheduler.Schedule());
        h.Scheduler.Update(output, h.Runner.Execute(output));
        Assert.Throws<InvalidOperationException>(() => h.Scheduler.Update(output, ModelRunnerOutput.Empty));
        Assert.Single(h.Scheduler.Schedule().ScheduledRequests);
    }
}
