using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>First come, first served: every key is equal, so requests are admitted in arrival order (preempted ones first).</summary>
public sealed class FcfsAdmissionPolicy : IAdmissionPolicy
{
    private FcfsAdmissionPolicy()
    {
    }

    /// <summary>The policy (it has no state).</summary>
    public static FcfsAdmissionPolicy Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "fcfs";

    /// <inheritdoc/>
    public void GetAdmissionKeys(ReadOnlySpan<Request> waiting, Span<long> keys, KvCacheManager kvCache) => keys[..waiting.Length].Clear();
}
