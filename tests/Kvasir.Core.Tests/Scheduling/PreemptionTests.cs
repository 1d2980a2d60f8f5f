using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;
using static Kvasir.Core.Tests.Scheduling.SchedulerHarness;

namespace Kvasir.Core.Tests.Scheduling;

public class PreemptionTests
{
    private static SchedulerConfig Config(IPreemptionPolicy policy, double watermark = 0, int grace = 8) =>
        SchedulerHarness.Config() with { PreemptionPolicy = policy, ReadmissionWatermark = watermark, ResumeGraceSteps = grace };

    [Fact]
    public void NewestIsPreemptedAndResumesFromThePrefixCache()
    {
        // 4 blocks of 4: a and b fill the pool with 8-token prompts; a's first decode (position 8) needs a third block.
        var h = new SchedulerHarness(Config(NewestFirstPreemptionPolicy.Instance), numBlocks: 4);
        Request a = h.Add("a", Range(0, 8), maxTokens: 3);
        Request b = h.Add("b", Range(100, 8));
        Assert.Equal("a:8 b:8", h.StepText());
        Assert.Equal([2, 3], h.Kv.GetBlockIds(b).ToArray());
        Assert.Equal(0, h.Kv.NumFreeBlocks);

        Assert.Equal("a:1", h.StepText());
        Assert.Equal(["b"], h.LastOutput!.PreemptedRequestIds);
        Assert.Equal(RequestStatus.Preempted, b.Status);
        Assert.Equal(0, b.NumComputedTokens);
        Assert.Equal(1, b.NumPreemptions);
        Assert.Equal(9, b.NumTokens);                      // its sampled token is kept: it is recomputed, not resampled
        Assert.Equal(1, h.Scheduler.NumPreemptions);
        Assert.Equal([0, 1, 3], h.Kv.GetBlockIds(a).ToArray()); // b's tail block 3 was reused first

        // b needs ceil((9 + 1) / 4) = 3 blocks to come back; 1 is free, so it waits (and a's next decode fits).
        Assert.Equal("a:1", h.StepText());
        Assert.Equal(RequestStatus.FinishedLength, a.Status);

        // a is done: b resumes; its head block 2 is still cached, the rest is recomputed.
        Assert.Equal("b:5", h.StepText());
        Assert.Equal([2, 3, 1], h.Kv.GetBlockIds(b).ToArray());
        Assert.Equal(4, h.Scheduler.NumPrefixCacheHitTokens);
        Assert.Equal(0, b.NumCachedTokens);                // the usage report keeps the first admission's hit
        Assert.Equal(RequestStatus.Running, b.Status);
    }

    [Fact]
    public void LowestPriorityIsPreemptedEvenWhenItIsTheOneAsking()
    {
        var h = new SchedulerHarness(Config(LowestPriorityFirstPreemptionPolicy.Instance), numBlocks: 4);
        Request a = h.Add("a", Range(0, 8), priority: 5);
        h.Add("b", Range(100, 8), priority: 0);
        Assert.Equal("a:8 b:8", h.StepText());
        Assert.Equal("b:1", h.StepText());                  // a asks first, but a is the least urgent
        Assert.Equal(["a"], h.LastOutput!.PreemptedRequestIds);
        Assert.Equal(RequestStatus.Preempted, a.Status);
    }

    [Theory]
    [InlineData("least-computed", "a", "b:1")]
    [InlineData("newest", "b", "a:1")]
    public void VictimDependsOnThePolicy(string policy, string victim, string step2)
    {
        IPreemptionPolicy p = policy == "newest" ? NewestFirstPreemptionPolicy.Instance : LeastComputedFirstPreemptionPolicy.Instance;
        // a: 8 tokens (2 blocks), b: 12 tokens (3 blocks), pool of 5; a's decode needs a block first.
        var h = new SchedulerHarness(Config(p), numBlocks: 5);
        h.Add("a", Range(0, 8));
        h.Add("b", Range(100, 12));
        Assert.Equal("a:8 b:12", h.StepText());
        Assert.Equal(step2, h.StepText());
        Assert.Equal([victim], h.LastOutput!.PreemptedRequestIds);
    }

    [Theory]
    [InlineData(0.1, "b:1 c:5")]   // watermark 1 block: 3 free >= 2 + 1, c comes back
    [InlineData(0.3, "b:1")]       // watermark 2 blocks: 3 free < 2 + 2, c waits
    public void ReadmissionWaitsForItsBlocksPlusTheWatermark(double watermark, string step3)
    {
        // Pool of 6: a and b take 2 blocks each, c 1; the three decodes need 3 more blocks with 1 free.
        var h = new SchedulerHarness(Config(NewestFirstPreemptionPolicy.Instance, watermark), numBlocks: 6);
        h.Add("a", Range(0, 8), maxTokens: 2);
        h.Add("b", Range(100, 8), maxTokens: 4);
        Request c = h.Add("c", Range(200, 4));
        Assert.Equal("a:8 b:8 c:4", h.StepText());
        Assert.Equal("a:1 b:1", h.StepText());
        Assert.Equal(["c"], h.LastOutput!.PreemptedRequestIds);
        Assert.Equal(RequestStatus.FinishedLength, h.All["a"].Status); // frees 3 blocks

        // c has 5 tokens: it needs ceil(6 / 4) = 2 blocks plus the watermark.
        Assert.Equal(step3, h.StepText());
        if (c.Status == RequestStatus.Preempted)
        {
            Assert.Equal("b:1", h.StepText());             // b finishes: the whole pool is free
            Assert.Equal("c:5", h.StepText());
        }
    }

    [Fact]
    public void NewArrivalsDoNotOvertakeAPreemptedRequestWaitingForMemory()
    {
        var h = new SchedulerHarness(Config(NewestFirstPreemptionPolicy.Instance), numBlocks: 4);
        h.Add("a", Range(0, 8), maxTokens: 4);
        h.Add("b", Range(100, 8));
        h.StepText();
        Assert.Equal("a:1", h.StepText());                  // b preempted
        h.Add("tiny", [7]);                                 // would fit in the free block, but b is first in line
        Assert.Equal("a:1", h.StepText());
        Assert.Equal("a:1", h.StepText());                  // a finishes
        Assert.Equal("b:5 tiny:1", h.StepText());      // b: 4 tokens from the prefix cache
    }

    /// <summary>
    /// Pool of 6 blocks of 4. Step 2: c (newest) is preempted for b's block, and a finishes. Step 3: c resumes (its
    /// head block is still cached). Step 6: b's decode at position 12 needs a block and none is free; the newest
    /// candidate is c again. With the guard, c (resumed 3 steps ago) is spared and b yields; without it, c thrashes.
    /// </summary>
    [Theory]
    [InlineData(8, "c:1", "b", 1)]
    [InlineData(0, "b:1", "c", 2)]
    public void RecentlyResumedRequestIsNotTheVictimWhileAnotherCandidateExists(int grace, string step6, string victim, int preemptionsOfC)
    {
        var h = new SchedulerHarness(Config(NewestFirstPreemptionPolicy.Instance, grace: grace), numBlocks: 6);
        h.Add("a", Range(0, 4), maxTokens: 2);
        h.Add("b", Range(100, 8));
        Request c = h.Add("c", Range(200, 8));
        Assert.Equal("a:4 b:8 c:8", h.StepText());
        Assert.Equal("a:1 b:1", h.StepText());
        Assert.Equal(["c"], h.LastOutput!.PreemptedRequestIds);
        Assert.Equal("b:1 c:5", h.StepText());              // c resumes: 4 tokens hit, 5 recomputed
        Assert.Equal("b:1 c:1", h.StepText());
        Assert.Equal("b:1 c:1", h.StepText());
        Assert.Equal(0, h.Kv.NumFreeBlocks);

        Assert.Equal(step6, h.StepText());
        Assert.Equal([victim], h.LastOutput!.PreemptedRequestIds);
        Assert.Equal(preemptionsOfC, c.NumPreemptions);
    }
}
