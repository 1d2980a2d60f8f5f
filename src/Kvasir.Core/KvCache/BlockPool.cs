using System.Diagnostics;

namespace Kvasir.Core.KvCache;

/// <summary>
/// All KV blocks of one arena: reference counts, the free queue that is also the eviction order, and the
/// prefix cache (hash → block, through <see cref="RadixPrefixIndex"/>). Block ids are indices 0..NumBlocks-1;
/// none is reserved.
/// </summary>
/// <remarks>
/// <para>The free queue is an intrusive doubly linked list threaded through the block records, with a
/// sentinel record at index NumBlocks, so every operation is O(1) and allocates nothing:</para>
/// <code>
///  sentinel ⇄ [head: evicted first] ⇄ ... ⇄ [tail: evicted last] ⇄ sentinel
///  GetNewBlock pops the head;  a block whose RefCount drops to 0 is appended at the tail if it is cached
///  (it stays findable until it reaches the head), at the head if not (it holds nothing worth keeping);
///  Touch unlinks a cached free block from anywhere in the list when a request hits it.
/// </code>
/// <para>Freed blocks keep their hash: a free cached block is both reusable and findable. Its hash is
/// dropped only when it is popped for new KV (an eviction).</para>
/// </remarks>
internal sealed class BlockPool
{
    private readonly KvBlock[] _blocks; // [NumBlocks + 1]; the last record is the free-queue sentinel
    private readonly int _sentinel;
    private readonly RadixPrefixIndex _index;

    /// <summary>Creates a pool whose blocks are all free, queued in id order (block 0 is handed out first).</summary>
    public BlockPool(int numBlocks, bool enableCaching, RadixPrefixIndex index)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numBlocks, 1);
        ArgumentNullException.ThrowIfNull(index);
        NumBlocks = numBlocks;
        EnableCaching = enableCaching;
        _index = index;
        _sentinel = numBlocks;
        _blocks = new KvBlock[numBlocks + 1];
        for (int i = 0; i <= numBlocks; i++)
        {
            _blocks[i].Prev = i == 0 ? _sentinel : i - 1;
            _blocks[i].Next = i == numBlocks ? 0 : i + 1;
        }
        NumFreeBlocks = numBlocks;
    }

    /// <summary>Total number of blocks.</summary>
    public int NumBlocks { get; }

    /// <summary>Whether full blocks are cached by hash.</summary>
    public bool EnableCaching { get; }

    /// <summary>Blocks in the free queue (RefCount 0), cached or not: what can be handed out now.</summary>
    public int NumFreeBlocks { get; private set; }

    /// <summary>Blocks findable by hash (in use or free).</summary>
    public int NumCachedBlocks => _index.Count;

    /// <summary>Cached blocks whose hash was dropped because they were reused.</summary>
    public long NumEvictions { get; private set; }

    /// <summary>The prefix index this pool keeps.</summary>
    public RadixPrefixIndex Index => _index;

    /// <summary>Reference count of a block.</summary>
    public int GetRefCount(int blockId) => _blocks[blockId].RefCount;

    /// <summary>Whether a block is findable by hash.</summary>
    public bool IsCached(int blockId) => _blocks[blockId].IsCached;

    /// <summary>A cached block's hash.</summary>
    public BlockHash GetBlockHash(int blockId) => _blocks[blockId].Hash;

    /// <summary>Whether a block is linked in the free queue.</summary>
    public bool IsInFreeQueue(int blockId) => _blocks[blockId].Prev >= 0;

    /// <summary>Finds a cached block by hash (no reference taken, eviction order unchanged).</summary>
    public bool TryGetCachedBlock(BlockHash hash, out int blockId) => _index.TryGetBlockId(hash, out blockId);

    /// <summary>Takes the block at the head of the free queue, evicting its cached hash; RefCount becomes 1. The caller checked <see cref="NumFreeBlocks"/>.</summary>
    public int GetNewBlock()
    {
        int id = _blocks[_sentinel].Next;
        if (id == _sentinel)
            throw new InvalidOperationException("The block pool is empty; check NumFreeBlocks before allocating.");
        Unlink(id);
        ref KvBlock block = ref _blocks[id];
        Debug.Assert(block.RefCount == 0, "A queued block has no holders.");
        if (block.IsCached)
        {
            bool removed = _index.Remove(block.Hash);
            Debug.Assert(removed, "A cached block is in the index.");
            block.IsCached = false;
            block.Hash = default;
            NumEvictions++;
        }
        block.RefCount = 1;
        return id;
    }

    /// <summary>Takes <paramref name="count"/> blocks from the head of the free queue into <paramref name="destination"/>.</summary>
    public void GetNewBlocks(int count, List<int> destination)
    {
        if (count > NumFreeBlocks)
            throw new InvalidOperationException($"Asked for {count} blocks with {NumFreeBlocks} free; check NumFreeBlocks before allocating.");
        for (int i = 0; i < count; i++)
            destination.Add(GetNewBlock());
    }

    /// <summary>Takes one more reference to a block (a prefix-cache hit or a fork); a free block leaves the free queue.</summary>
    public void Touch(int blockId)
    {
        ref KvBlock block = ref _blocks[blockId];
        if (block.RefCount == 0)
        {
            Debug.Assert(block.IsCached, "Only cached blocks can be touched while free.");
            Unlink(blockId);
        }
        block.RefCount++;
    }

    /// <summary>Drops one reference; at zero the block joins the free queue (tail if cached, head if not).</summary>
    public void FreeBlock(int blockId)
    {
        ref KvBlock block = ref _blocks[blockId];
        if (block.RefCount <= 0)
            throw new InvalidOperationException($"Block {blockId} freed more often than it was taken (double free).");
        if (--block.RefCount > 0)
            return;
        if (block.IsCached)
            LinkBefore(blockId, _sentinel);             // tail
        else
            LinkBefore(blockId, _blocks[_sentinel].Next); // head
    }

    /// <summary>Drops one reference on each block in order; pass a request's blocks last-first so that its tail is evicted before its head.</summary>
    public void FreeBlocks(ReadOnlySpan<int> blocksInEvictionOrder)
    {
        foreach (int id in blocksInEvictionOrder)
            FreeBlock(id);
    }

    /// <summary>
    /// Makes a full block findable by its hash. Returns false when another block already caches that hash (two
    /// requests computed the same prefix at once): the block stays uncached and the first one stays the cached copy.
    /// </summary>
    public bool CacheFullBlock(int blockId, BlockHash hash, BlockHash parentHash)
    {
        Debug.Assert(EnableCaching);
        ref KvBlock block = ref _blocks[blockId];
        Debug.Assert(block.RefCount > 0, "Only blocks in use are cached.");
        if (block.IsCached)
        {
            Debug.Assert(block.Hash == hash, "A block keeps one hash.");
            return true;
        }
        if (!_index.Insert(hash, parentHash, blockId))
            return false;
        block.IsCached = true;
        block.Hash = hash;
        return true;
    }

    /// <summary>Drops every cached hash (blocks in use stay valid for their holders); returns how many were dropped. The free queue order is kept.</summary>
    public int ResetPrefixCache()
    {
        int dropped = 0;
        for (int i = 0; i < NumBlocks; i++)
        {
            if (_blocks[i].IsCached)
            {
                _blocks[i].IsCached = false;
                _blocks[i].Hash = default;
                dropped++;
            }
        }
        _index.Clear();
        return dropped;
    }

    /// <summary>The free queue from head (evicted first) to tail, for tests and diagnostics.</summary>
    public int[] FreeQueueToArray()
    {
        var ids = new int[NumFreeBlocks];
        int n = 0;
        for (int id = _blocks[_sentinel].Next; id != _sentinel; id = _blocks[id].Next)
            ids[n++] = id;
        Debug.Assert(n == NumFreeBlocks);
        return ids;
    }

    private void Unlink(int id)
    {
        ref KvBlock block = ref _blocks[id];
        Debug.Assert(block.Prev >= 0 && block.Next >= 0, "Unlinking a block that is not queued.");
        _blocks[block.Prev].Next = block.Next;
        _blocks[block.Next].Prev = block.Prev;
        block.Prev = -1;
        block.Next = -1;
        NumFreeBlocks--;
    }

    private void LinkBefore(int id, int before)
    {
        ref KvBlock block = ref _blocks[id];
        Debug.Assert(block.Prev < 0 && block.Next < 0, "Linking a block that is already queued.");
        int prev = _blocks[before].Prev;
        block.Prev = prev;
        block.Next = before;
        _blocks[prev].Next = id;
        _blocks[before].Prev = id;
        NumFreeBlocks++;
    }
}
