namespace Kvasir.Core.KvCache;

/// <summary>A request's block table inside <see cref="KvCacheManager"/> (recycled when the request is freed).</summary>
internal sealed class RequestBlockTable
{
    /// <summary>Block ids in logical order: block i holds the KV of token positions [i·BlockSize, (i+1)·BlockSize).</summary>
    public List<int> BlockIds { get; } = [];

    /// <summary>Leading blocks already offered to the prefix cache (cached, or left uncached as duplicates).</summary>
    public int NumCachedBlocks { get; set; }

    /// <summary>Empties the table for reuse.</summary>
    public void Clear()
    {
        BlockIds.Clear();
        NumCachedBlocks = 0;
    }
}
