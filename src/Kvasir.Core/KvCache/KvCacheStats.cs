namespace Kvasir.Core.KvCache;

/// <summary>Cumulative counters of a <see cref="KvCacheManager"/> since it was created.</summary>
/// <param name="PrefixCacheRequests">Calls of <see cref="KvCacheManager.GetComputedBlocks"/> with prefix caching on.</param>
/// <param name="PrefixCacheQueries">Tokens looked up (each call counts the request's NumTokens, as vLLM).</param>
/// <param name="PrefixCacheHits">Tokens found in the cache.</param>
/// <param name="Evictions">Cached blocks whose hash was dropped because the block was reused for new KV.</param>
/// <param name="CopyOnWriteCopies">Block copies recorded for copy-on-write.</param>
public readonly record struct KvCacheStats(
    long PrefixCacheRequests,
    long PrefixCacheQueries,
    long PrefixCacheHits,
    long Evictions,
    long CopyOnWriteCopies)
{
    /// <summary>Hits over queries, in tokens; 0 before any query.</summary>
    public double PrefixCacheHitRate => PrefixCacheQueries == 0 ? 0 : (double)PrefixCacheHits / PrefixCacheQueries;
}
