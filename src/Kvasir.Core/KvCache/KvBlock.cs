namespace Kvasir.Core.KvCache;

/// <summary>
/// The record of one KV block in <see cref="BlockPool"/>'s arena (a struct array: no object per block).
/// The block's id is its index in the arena.
/// </summary>
internal struct KvBlock
{
    /// <summary>Number of block tables (requests) that hold the block; 0 means it is in the free queue.</summary>
    public int RefCount;

    /// <summary>Previous block in the free queue (toward the head, evicted sooner); -1 when not queued.</summary>
    public int Prev;

    /// <summary>Next block in the free queue (toward the tail); -1 when not queued.</summary>
    public int Next;

    /// <summary>True when the block is full and findable by <see cref="Hash"/> in the prefix index.</summary>
    public bool IsCached;

    /// <summary>The block's chained hash when <see cref="IsCached"/>.</summary>
    public BlockHash Hash;
}
