using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>
/// Cache-aware ordering (SGLang's longest-prefix-match): the request with the most tokens already in the prefix
/// cache goes first, so that a shared prefix is used while it is still cached instead of being evicted by unrelated
/// prompts. Ties by arrival. The lookup (<see cref="KvCacheManager.CountCachedTokens"/>) takes no reference, counts
/// no query and leaves the eviction order alone.
/// </summary>
/// <remarks>
/// Matching costs one radix-index walk per waiting request per step; beyond <see cref="MaxQueueLength"/> waiting
/// requests the policy falls back to arrival order (as SGLang does), because a long queue is a sign of overload
/// where the walk costs more than it saves.
/// </remarks>
public sealed class LongestPrefixMatchAdmissionPolicy : IAdmissionPolicy
{
    /// <summary>Creates the policy.</summary>
    /// <param name="maxQueueLength">Beyond this many waiting requests, order by arrival instead. Default 128 (SGLang's).</param>
    public LongestPrefixMatchAdmissionPolicy(int maxQueueLength = 128)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueueLength);
        MaxQueueLength = maxQueueLength;
    }

    /// <summary>The longest waiting queue that is matched against the cache.</summary>
    public int MaxQueueLength { get; }

    /// <inheritdoc/>
    public string Name => "lpm";

    /// <inheritdoc/>
    public void GetAdmissionKeys(ReadOnlySpan<Request> waiting, Span<long> keys, KvCacheManager kvCache)
    {
        ArgumentNullException.ThrowIfNull(kvCache);
        if (waiting.Length > MaxQueueLength)
        {
            keys[..waiting.Length].Clear();
            return;
        }
        for (int i = 0; i < waiting.Length; i++)
            keys[i] = -kvCache.CountCachedTokens(waiting[i]);
    }
}
