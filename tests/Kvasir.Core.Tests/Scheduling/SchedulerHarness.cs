using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;

namespace Kvasir.Core.Tests.Scheduling;

/// <summary>A scheduler, its KV cache manager and a fake runner, stepped together as the engine does.</summary>
internal sealed class SchedulerHarness
{
    public SchedulerHarness(SchedulerConfig config, int numBlocks, int blockSize = 4)
    {
        Kv = new KvCacheManager(numBlocks, blockSize);
        Scheduler = new Scheduler(config, Kv);
        Runner = new FakeRunner(Scheduler);
    }

    public KvCacheManager Kv { get; }

    public Scheduler Scheduler { get; }

    public FakeRunner Runner { get; }

    public Dictionary<string, Request> All { get; } = new(StringComparer.Ordinal);

    public SchedulerOutput? LastOutput { get; private set; }

    public UpdateResult? LastUpdate { get; private set; }

    public static SchedulerConfig Config(int maxModelLen = 1024, int budget = 2048, int maxNumSeqs = 128) =>
        new() { MaxModelLen = maxModelLen, MaxNumBatchedTokens = budget, MaxNumSeqs = maxNumSeqs };

    /// <summary>Tokens start, start+1, ..., start+count-1.</summary>
    public static int[] Range(int start, int count) => Enumerable.Range(start, count).ToArray();

    public Request Add(string id, int[] prompt, int maxTokens = int.MaxValue, int priority = 0, int n = 1, string? salt = null)
    {
        var r = new Request(id, prompt, new PrefixCacheKeys(salt), priority) { MaxTokens = maxTokens, NumSamples = n };
        AddRequestResult result = Scheduler.AddRequest(r);
        Assert.True(result.IsAccepted, result.ErrorMessage);
        All[id] = r;
        return r;
    }

    public Request Add(Request r)
    {
        AddRequestResult result = Scheduler.AddRequest(r);
        Assert.True(result.IsAccepted, result.ErrorMessage);
        All[r.RequestId] = r;
        return r;
    }

    /// <summary>Schedule, run, update; returns request id → tokens scheduled in the step.</summary>
    public Dictionary<string, int> Step()
    {
        SchedulerOutput output = Scheduler.Schedule();
        LastOutput = output;
        ModelRunnerOutput result = Runner.Execute(output);
        LastUpdate = Scheduler.Update(output, result);
        foreach (Request child in LastUpdate.Forked)
            All[child.RequestId] = child;
        return output.ScheduledRequests.ToDictionary(s => s.RequestId, s => s.NumTokens);
    }

    /// <summary>The step's decisions as "id:tokens" in schedule order, for exact assertions.</summary>
    public string StepText()
    {
        Step();
        return string.Join(' ', LastOutput!.ScheduledRequests.Select(s => $"{s.RequestId}:{s.NumTokens}"));
    }

    /// <summary>Steps until nothing is waiting or running; returns the number of steps.</summary>
    public int RunToIdle(int maxSteps = 10_000)
    {
        int steps = 0;
        while (!Scheduler.IsIdle)
        {
            Assert.True(++steps <= maxSteps, $"Not idle after {maxSteps} steps: {Scheduler.NumRunningRequests} running, {Scheduler.NumWaitingRequests} waiting.");
            Step();
        }
        return steps;
    }

    /// <summary>Every block free (cached or not) and unreferenced, and no table left.</summary>
    public void AssertAllBlocksFree()
    {
        Assert.Equal(Kv.NumBlocks, Kv.NumFreeBlocks);
        Assert.Equal(0, Kv.NumRequests);
        for (int id = 0; id < Kv.NumBlocks; id++)
            Assert.Equal(0, Kv.Pool.GetRefCount(id));
    }
}
