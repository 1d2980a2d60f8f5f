using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;
using static Kvasir.Core.Tests.Scheduling.SchedulerHarness;

namespace Kvasir.Core.Tests.Scheduling;

public class AdmissionPolicyTests
{
    /// <summary>One sequence at a time and max_tokens = 1: each step admits exactly one request, which finishes in it.</summary>
    private static SchedulerConfig OneAtATime(IAdmissionPolicy policy, int maxOvertakes = 1000, int maxWaitingSteps = 1000) =>
        Config(maxNumSeqs: 1) with { AdmissionPolicy = policy, StarvationMaxOvertakes = maxOvertakes, StarvationMaxWaitingSteps = maxWaitingSteps };

    private static string AdmissionOrder(SchedulerHarness h)
    {
        var order = new List<string>();
        while (!h.Scheduler.IsIdle)
            order.Add(h.StepText());
        return string.Join(' ', order);
    }

    [Fact]
    public void FcfsAdmitsInArrivalOrder()
    {
        var h = new SchedulerHarness(OneAtATime(FcfsAdmissionPolicy.Instance), numBlocks: 64);
        h.Add("a", [1, 2], maxTokens: 1, priority: 5);
        h.Add("b", [3, 4], maxTokens: 1, priority: 0);
        h.Add("c", [5, 6], maxTokens: 1, priority: 0);
        Assert.Equal("a:2 b:2 c:2", AdmissionOrder(h));
    }

    [Fact]
    public void PriorityAdmitsLowestValueFirstThenByArrival()
    {
        var h = new SchedulerHarness(OneAtATime(PriorityAdmissionPolicy.Instance), numBlocks: 64);
        h.Add("a", [1, 2], maxTokens: 1, priority: 5);
        h.Add("b", [3, 4], maxTokens: 1, priority: 0);
        h.Add("c", [5, 6], maxTokens: 1, priority: -1);
        h.Add("d", [7, 8], maxTokens: 1, priority: 0);
        Assert.Equal("c:2 b:2 d:2 a:2", AdmissionOrder(h));
    }

    [Fact]
    public void LongestPrefixMatchAdmitsTheMostCachedFirst()
    {
        var h = new SchedulerHarness(OneAtATime(new LongestPrefixMatchAdmissionPolicy()), numBlocks: 64);
        h.Add("warm", Range(0, 12), maxTokens: 1);
        h.Step();
        h.Add("cold", [.. Range(500, 10)], maxTokens: 1);
        h.Add("four", [.. Range(0, 4), .. Range(900, 6)], maxTokens: 1);
        h.Add("eight", [.. Range(0, 8), .. Range(800, 2)], maxTokens: 1);
        long queries = h.Kv.Stats.PrefixCacheQueries;
        Assert.Equal("eight:2 four:6 cold:10", AdmissionOrder(h));
        Assert.Equal(queries + 30, h.Kv.Stats.PrefixCacheQueries); // the ordering itself counts no query
    }

    [Fact]
    public void LongestPrefixMatchFallsBackToArrivalOrderForLongQueues()
    {
        var h = new SchedulerHarness(OneAtATime(new LongestPrefixMatchAdmissionPolicy(maxQueueLength: 1)), numBlocks: 64);
        h.Add("warm", Range(0, 12), maxTokens: 1);
        h.Step();
        h.Add("cold", [.. Range(500, 10)], maxTokens: 1);
        h.Add("eight", [.. Range(0, 8), .. Range(800, 2)], maxTokens: 1);
        Assert.Equal("cold:10", h.StepText());
    }

    /// <summary>
    /// A cold request waits behind a stream of cache-friendly arrivals (one per step). Longest-prefix-match alone
    /// would admit the friendly ones forever; the bound admits the cold one once more than 3 later arrivals passed it.
    /// </summary>
    [Theory]
    [InlineData(3, 1000, 5)]
    [InlineData(1000, 6, 7)]      // the waiting-time bound: waited 7 > 6 steps at step 7
    [InlineData(1000, 1000, -1)]  // no bound within 30 steps: starved
    public void StarvationBoundHoldsUnderCacheFriendlyArrivals(int maxOvertakes, int maxWaitingSteps, int expectedStep)
    {
        var h = new SchedulerHarness(OneAtATime(new LongestPrefixMatchAdmissionPolicy(), maxOvertakes, maxWaitingSteps), numBlocks: 256);
        h.Add("warm", Range(0, 10), maxTokens: 1);
        h.Step();
        Assert.True(h.Scheduler.IsIdle);

        Request cold = h.Add("cold", Range(500, 10), maxTokens: 1);
        long start = h.Scheduler.NumSteps;
        int admittedAt = -1;
        for (int i = 0; i < 30 && admittedAt < 0; i++)
        {
            h.Add($"f{i}", [.. Range(0, 8), 600 + i, 700 + i], maxTokens: 1);
            string step = h.StepText();
            if (step.StartsWith("cold", StringComparison.Ordinal))
                admittedAt = (int)(h.Scheduler.NumSteps - start);
            else
                Assert.Equal($"f{i}:2", step);
        }
        Assert.Equal(expectedStep, admittedAt);
        Assert.Equal(expectedStep < 0 ? RequestStatus.Waiting : RequestStatus.FinishedLength, cold.Status);
    }

    [Fact]
    public void StarvingRequestBlocksAdmissionUntilItFits()
    {
        // The cold request is starving but cannot fit (the pool is held by "hog"): nobody behind it is admitted.
        SchedulerConfig config = OneAtATime(new LongestPrefixMatchAdmissionPolicy(), maxOvertakes: 0) with { MaxNumSeqs = 4 };
        var h = new SchedulerHarness(config, numBlocks: 8);
        h.Add("warm", Range(0, 4), maxTokens: 1);
        h.Step();
        h.Add("hog", Range(300, 20), maxTokens: 3);     // 5 blocks, then 6
        h.Add("cold", Range(500, 9), maxTokens: 1);     // 3 blocks
        h.Add("f", [.. Range(0, 4), 9], maxTokens: 1);  // hits warm's block: needs 1 more
        Assert.Equal("f:1 hog:20", h.StepText());        // f overtakes both (0 overtakes allowed from now on)
        Assert.Equal("hog:1", h.StepText());              // cold starving; 2 free blocks < 3: nobody passes
        h.Add("g", [.. Range(0, 4), 10], maxTokens: 1);
        Assert.Equal("hog:1", h.StepText());              // hog finishes
        Assert.Equal("cold:9 g:5", h.StepText());        // cold evicted warm's block (least recently used) before g looked
    }
}
