using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Tests.KvCache;

/// <summary>Helpers that play the scheduler's part in the tests.</summary>
internal static class Kv
{
    /// <summary>Tokens start, start+1, ..., start+count-1.</summary>
    public static int[] Range(int start, int count) => Enumerable.Range(start, count).ToArray();

    public static Request Req(string id, int[] tokens, string? salt = null) => new(id, tokens, new PrefixCacheKeys(salt));

    /// <summary>Admits a request with its whole prompt in one step (prefix hit + the rest); returns the hit tokens, or -1 when out of memory.</summary>
    public static int Prefill(KvCacheManager kv, Request request)
    {
        var (hit, numHit) = kv.GetComputedBlocks(request);
        KvCacheBlocks? blocks = kv.AllocateSlots(request, request.NumTokens - numHit, numHit, hit);
        if (blocks is null)
            return -1;
        request.NumComputedTokens = request.NumTokens;
        request.Status = RequestStatus.Running;
        return numHit;
    }

    /// <summary>One decode step: the sampled token is appended and its slot allocated; false when out of memory.</summary>
    public static bool Decode(KvCacheManager kv, Request request, int token)
    {
        request.AppendOutputToken(token);
        if (kv.AllocateSlots(request, 1) is null)
            return false;
        request.NumComputedTokens++;
        return true;
    }

    public static int[] Table(KvCacheManager kv, Request request) => kv.GetBlockIds(request).ToArray();

    public static int[] FreeQueue(KvCacheManager kv) => kv.Pool.FreeQueueToArray();
}
