using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>
/// Orders the waiting queue. Each step the scheduler asks the policy for one key per waiting request and tries to
/// admit them in ascending key order; ties go to the preempted requests first (they are resumed at the front of
/// the queue), then to the earlier arrival. Starving requests (see <see cref="SchedulerConfig.StarvationMaxOvertakes"/>)
/// go before every key.
/// </summary>
/// <remarks>One call per step for the whole queue, not one per request or per comparison.</remarks>
public interface IAdmissionPolicy
{
    /// <summary>Short name for logs and metrics ("fcfs", "priority", "lpm").</summary>
    string Name { get; }

    /// <summary>Fills <paramref name="keys"/>[i] with the admission key of <paramref name="waiting"/>[i]; lower is admitted first.</summary>
    /// <param name="waiting">The waiting requests, in no particular order (only the keys matter; the scheduler breaks ties by arrival).</param>
    /// <param name="keys">Output, as long as <paramref name="waiting"/>.</param>
    /// <param name="kvCache">The KV cache, for read-only queries (<see cref="KvCacheManager.CountCachedTokens"/>).</param>
    void GetAdmissionKeys(ReadOnlySpan<Request> waiting, Span<long> keys, KvCacheManager kvCache);
}
