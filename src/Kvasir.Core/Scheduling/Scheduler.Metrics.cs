namespace Kvasir.Core.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>Requests running (holding KV blocks), parallel-sampling children included.</summary>
    public int NumRunningRequests => _running.Count;

    /// <summary>Requests waiting, new and preempted.</summary>
    public int NumWaitingRequests => _waiting.Count;

    /// <summary>Steps scheduled so far.</summary>
    public long NumSteps => _step;

    /// <summary>Preemptions so far.</summary>
    public long NumPreemptions { get; private set; }

    /// <summary>Tokens scheduled in the last step (prefill chunks plus decodes).</summary>
    public int LastStepNumScheduledTokens { get; private set; }

    /// <summary>Requests scheduled in the last step.</summary>
    public int LastStepNumScheduledRequests { get; private set; }

    /// <summary>Tokens admitted from the prefix cache so far (first admissions and resumptions after preemption).</summary>
    public long NumPrefixCacheHitTokens { get; private set; }

    /// <summary>Requests <see cref="AddRequest"/> rejected so far.</summary>
    public long NumRejectedRequests { get; private set; }

    /// <summary>Fraction of KV blocks held by requests, in [0, 1].</summary>
    public double KvCacheUsage => _kv.Usage;
}
