using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;

namespace Kvasir.Core.Tests.Scheduling;

/// <summary>
/// Random workloads (fixed seeds) over random configs and policies, with random aborts (queued, running, preempted
/// and while the step is in flight) and engine-side stops. The fake runner checks every KV slot each request reads.
/// After every step: block reference counts match the running requests' tables, waiting requests hold nothing, the
/// limits hold, and a non-idle scheduler always schedules something (so nothing can hang). At the end every request
/// has finished for a valid reason and every block is free.
/// </summary>
public class RandomWorkloadTests
{
    private const int Eos = 2;

    private static readonly int[][] Families = [Enumerable.Range(10, 40).ToArray(), Enumerable.Range(60, 40).ToArray()];

    [Fact]
    public void RandomWorkloadsFinishAndLeaveNoBlockBehind()
    {
        var coverage = new Coverage();
        for (int seed = 1; seed <= 60; seed++)
        {
            try
            {
                Run(seed, coverage);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidOperationException($"Seed {seed}: {e.Message}", e);
            }
        }

        // The workloads must reach what they are meant to test.
        Assert.True(coverage.Preemptions > 150, $"preemptions: {coverage.Preemptions}");
        Assert.True(coverage.Forks > 200, $"forks: {coverage.Forks}");
        Assert.True(coverage.Copies > 100, $"copy-on-write copies: {coverage.Copies}");
        Assert.True(coverage.Rejected > 100, $"rejected: {coverage.Rejected}");
        Assert.True(coverage.PrefixHitTokens > 2000, $"prefix-cache hit tokens: {coverage.PrefixHitTokens}");
        Assert.True(coverage.Aborted > 200, $"aborted: {coverage.Aborted}");
    }

    private static void Run(int seed, Coverage coverage)
    {
        var rng = new Random(seed);
        int blockSize = new[] { 1, 2, 4, 16 }[rng.Next(4)];
        int numBlocks = rng.Next(4, 40);
        IAdmissionPolicy[] admissions = [FcfsAdmissionPolicy.Instance, PriorityAdmissionPolicy.Instance, new LongestPrefixMatchAdmissionPolicy(rng.Next(1, 20))];
        IPreemptionPolicy[] preemptions = [NewestFirstPreemptionPolicy.Instance, LowestPriorityFirstPreemptionPolicy.Instance, LeastComputedFirstPreemptionPolicy.Instance];
        var config = new SchedulerConfig
        {
            MaxModelLen = rng.Next(8, 120),
            MaxNumBatchedTokens = rng.Next(1, 48),
            MaxNumSeqs = rng.Next(1, 8),
            LongPrefillTokenThreshold = rng.Next(2) == 0 ? 0 : rng.Next(1, 12),
            MaxLongPartialPrefills = rng.Next(1, 3),
            MaxWaitingRequests = rng.Next(5, 40),
            AdmissionPolicy = admissions[rng.Next(3)],
            PreemptionPolicy = preemptions[rng.Next(3)],
            ResumeGraceSteps = rng.Next(0, 6),
            ReadmissionWatermark = new[] { 0, 0.01, 0.2 }[rng.Next(3)],
            StarvationMaxOvertakes = rng.Next(0, 10),
            StarvationMaxWaitingSteps = rng.Next(0, 60),
        };
        var h = new SchedulerHarness(config, numBlocks, blockSize);
        h.Runner.Sampler = (r, i) => Sample(seed, r, i);
        Scheduler s = h.Scheduler;
        var stoppedByEngine = new HashSet<string>(StringComparer.Ordinal);
        var aborted = new HashSet<string>(StringComparer.Ordinal);
        long workTokens = 0;

        int numAdded = 0;
        int steps = 0;
        while (numAdded < 50 || !s.IsIdle)
        {
            if (numAdded < 50)
            {
                for (int k = rng.Next(0, 3); k > 0 && numAdded < 50; k--)
                {
                    Request r = NewRequest(rng, $"r{numAdded++}", config.MaxModelLen, numBlocks * blockSize);
                    if (s.AddRequest(r).IsAccepted)
                    {
                        h.All[r.RequestId] = r;
                        workTokens += (long)r.NumSamples * (r.NumTokens + Math.Min(r.MaxTokens, config.MaxModelLen));
                    }
                    else
                    {
                        Assert.Equal(RequestStatus.FinishedIgnored, r.Status);
                    }
                }
            }
            MaybeCancel(rng, h, aborted, stoppedByEngine, 0.05);

            bool idle = s.IsIdle;
            SchedulerOutput output = s.Schedule();
            steps++;
            CheckStep(h, output, idle);
            ModelRunnerOutput ran = h.Runner.Execute(output);
            if (rng.NextDouble() < 0.05 && output.ScheduledRequests.Length > 0)
            {
                string id = output.ScheduledRequests[rng.Next(output.ScheduledRequests.Length)].RequestId;
                Assert.True(s.Abort(id));
                aborted.Add(id);
            }
            UpdateResult update = s.Update(output, ran);
            foreach (Request child in update.Forked)
                h.All[child.RequestId] = child;
            CheckInvariants(h);
            Assert.True(steps < 20 * (workTokens + 50), $"No progress after {steps} steps.");
        }

        h.AssertAllBlocksFree();
        foreach (Request r in h.All.Values)
            CheckFinished(s, r, aborted, stoppedByEngine);
        coverage.Preemptions += s.NumPreemptions;
        coverage.Forks += h.All.Values.Count(r => r.ParentRequestId is not null);
        coverage.Copies += h.Kv.Stats.CopyOnWriteCopies;
        coverage.Rejected += s.NumRejectedRequests;
        coverage.PrefixHitTokens += s.NumPrefixCacheHitTokens;
        coverage.Aborted += aborted.Count;
    }

    private static Request NewRequest(Random rng, string id, int maxModelLen, int poolTokens)
    {
        int maxLength = Math.Min(maxModelLen, poolTokens) + 3; // a few are rejected as too long
        int length = rng.Next(1, Math.Min(maxLength, 40) + 1);
        int[] family = Families[rng.Next(Families.Length)];
        int shared = rng.Next(0, length + 1);
        int[] tokens = new int[length];
        for (int i = 0; i < length; i++)
            tokens[i] = i < shared && i < family.Length ? family[i] : 200 + rng.Next(50);
        return new Request(id, tokens, new PrefixCacheKeys(rng.Next(4) == 0 ? "tenant-b" : null), priority: rng.Next(3), arrivalTime: 0)
        {
            MaxTokens = rng.Next(1, 12),
            EosTokenIds = [Eos],
            IgnoreEos = rng.Next(5) == 0,
            StopTokenIds = rng.Next(3) == 0 ? [3] : [],
            NumSamples = rng.Next(4) == 0 ? rng.Next(2, 4) : 1,
        };
    }

    /// <summary>A deterministic "model": tokens 0..29, so the end-of-sequence and stop tokens come up now and then.</summary>
    private static int Sample(int seed, Request r, int sampleIndex)
    {
        uint v = (uint)(seed * 7919) ^ (uint)(r.NumTokens * 104729) ^ (uint)(sampleIndex * 1299709);
        foreach (char c in r.RequestId)
            v = (v * 31) + c;
        v ^= v >> 13;
        v *= 0x5bd1e995;
        v ^= v >> 15;
        return (int)(v % 30);
    }

    private static void MaybeCancel(Random rng, SchedulerHarness h, HashSet<string> aborted, HashSet<string> stoppedByEngine, double p)
    {
        if (rng.NextDouble() >= p)
            return;
        string[] live = h.All.Values.Where(r => !r.IsFinished).Select(r => r.RequestId).ToArray();
        if (live.Length == 0)
            return;
        string id = live[rng.Next(live.Length)];
        if (rng.Next(3) == 0)
        {
            Assert.True(h.Scheduler.Finish(id, RequestStatus.FinishedStopped));
            stoppedByEngine.Add(id);
        }
        else
        {
            Assert.True(h.Scheduler.Abort(id));
            aborted.Add(id);
        }
    }

    private static void CheckStep(SchedulerHarness h, SchedulerOutput output, bool wasIdle)
    {
        SchedulerConfig config = h.Scheduler.Config;
        Assert.True(wasIdle || output.TotalNumScheduledTokens > 0, "A scheduler with work schedules something every step.");
        Assert.True(output.TotalNumScheduledTokens <= config.MaxNumBatchedTokens);
        Assert.True(output.ScheduledRequests.Length <= config.MaxNumSeqs);
        Assert.Equal(output.ScheduledRequests.Length, output.ScheduledRequests.Select(x => x.RequestId).Distinct().Count());
        int numLong = 0;
        foreach (ScheduledRequest x in output.ScheduledRequests)
        {
            Assert.True(x.NumTokens > 0);
            Assert.True(h.Scheduler.TryGetRequest(x.RequestId, out Request r));
            Assert.Equal(RequestStatus.Running, r.Status);
            Assert.Equal(x.WantLogits, x.FirstPosition + x.NumTokens == r.NumTokens);
            if (config.LongPrefillTokenThreshold > 0)
            {
                Assert.True(x.NumTokens <= config.LongPrefillTokenThreshold);
                if (r.NumTokens - x.FirstPosition > config.LongPrefillTokenThreshold)
                    numLong++;
            }
        }
        Assert.True(numLong <= config.MaxLongPartialPrefills);
        foreach (string id in output.PreemptedRequestIds)
            Assert.DoesNotContain(output.ScheduledRequests, x => x.RequestId == id);
    }

    private static void CheckInvariants(SchedulerHarness h)
    {
        KvCacheManager kv = h.Kv;
        var holders = new int[kv.NumBlocks];
        int numRunning = 0;
        foreach (Request r in h.All.Values)
        {
            ReadOnlySpan<int> table = kv.GetBlockIds(r);
            if (r.Status == RequestStatus.Running)
            {
                numRunning++;
                Assert.Equal((r.NumComputedTokens + kv.BlockSize - 1) / kv.BlockSize, table.Length);
                foreach (int id in table)
                    holders[id]++;
            }
            else
            {
                Assert.True(table.IsEmpty, $"{r.RequestId} ({r.Status}) holds no blocks.");
            }
        }
        Assert.Equal(numRunning, h.Scheduler.NumRunningRequests);
        Assert.Equal(numRunning, kv.NumRequests);
        Assert.True(numRunning <= h.Scheduler.Config.MaxNumSeqs);
        // Preempted requests rejoin the queue past the cap; they came from the running set.
        Assert.True(h.Scheduler.NumWaitingRequests <= h.Scheduler.Config.MaxWaitingRequests + h.Scheduler.Config.MaxNumSeqs);
        int numFree = 0;
        for (int id = 0; id < kv.NumBlocks; id++)
        {
            Assert.Equal(holders[id], kv.Pool.GetRefCount(id));
            numFree += holders[id] == 0 ? 1 : 0;
        }
        Assert.Equal(numFree, kv.NumFreeBlocks);
    }

    private static void CheckFinished(Scheduler s, Request r, HashSet<string> aborted, HashSet<string> stoppedByEngine)
    {
        Assert.True(r.IsFinished, $"{r.RequestId} is {r.Status}");
        Assert.True(r.NumOutputTokens <= r.MaxTokens);
        if (aborted.Contains(r.RequestId))
        {
            Assert.Equal(RequestStatus.FinishedAborted, r.Status);
            return;
        }
        if (stoppedByEngine.Contains(r.RequestId))
        {
            Assert.Equal(RequestStatus.FinishedStopped, r.Status);
            return;
        }
        int last = r.OutputTokenIds[^1];
        if (r.Status == RequestStatus.FinishedStopped)
            Assert.True((last == Eos && !r.IgnoreEos) || r.StopTokenIds.Contains(last));
        else
            Assert.True(r.Status == RequestStatus.FinishedLength && (r.NumOutputTokens == r.MaxTokens || r.NumTokens >= s.MaxSeqLen), $"{r.RequestId}: {r.Status}");
        for (int i = 0; i < r.NumOutputTokens - 1; i++)
        {
            int t = r.OutputTokenIds[i];
            Assert.False((t == Eos && !r.IgnoreEos) || r.StopTokenIds.Contains(t), $"{r.RequestId} went on after a stop token.");
        }
    }

    private sealed class Coverage
    {
        public long Preemptions { get; set; }

        public long Forks { get; set; }

        public long Copies { get; set; }

        public long Rejected { get; set; }

        public long PrefixHitTokens { get; set; }

        public long Aborted { get; set; }
    }
}
