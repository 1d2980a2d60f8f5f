using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>By <see cref="Request.Priority"/>: lower values are more urgent (vLLM's convention), ties by arrival.</summary>
public sealed class PriorityAdmissionPolicy : IAdmissionPolicy
{
    private PriorityAdmissionPolicy()
    {
    }

    /// <summary>The policy (it has no state).</summary>
    public static PriorityAdmissionPolicy Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "priority";

    /// <inheritdoc/>
    public void GetAdmissionKeys(ReadOnlySpan<Request> waiting, Span<long> keys, KvCacheManager kvCache)
    {
        for (int i = 0; i < waiting.Length; i++)
            keys[i] = waiting[i].Priority;
    }
}
