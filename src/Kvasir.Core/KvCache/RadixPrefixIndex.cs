namespace Kvasir.Core.KvCache;

/// <summary>
/// The index of cached full blocks: a radix tree whose edges are whole blocks and whose nodes are addressed
/// by their chained <see cref="BlockHash"/> (a hash names the entire path from the root, so walking the tree
/// is hashing block by block and looking each hash up). It answers "how long is the cached prefix of these
/// tokens" without touching the block pool, reference counts or the eviction order, for cache-aware
/// scheduling and routing.
/// </summary>
/// <remarks>
/// The <see cref="BlockPool"/> uses this index as its hash → block map, so the two can never disagree: a
/// node is inserted when a block is cached and removed when the block is evicted for reuse or the cache is
/// reset. Per-node metadata (pins with a time-to-live, storage tier) will live in <see cref="Node"/>.
/// </remarks>
public sealed class RadixPrefixIndex
{
    private readonly Dictionary<BlockHash, Node> _nodes = [];

    /// <summary>Creates an empty index.</summary>
    /// <param name="hasher">Hasher used to hash query tokens; must be the one the cached hashes were made with.</param>
    /// <param name="blockSize">Tokens per block.</param>
    public RadixPrefixIndex(BlockHasher hasher, int blockSize)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        Hasher = hasher;
        BlockSize = blockSize;
    }

    /// <summary>The hasher used for queries.</summary>
    public BlockHasher Hasher { get; }

    /// <summary>Tokens per block.</summary>
    public int BlockSize { get; }

    /// <summary>Number of cached blocks (nodes).</summary>
    public int Count => _nodes.Count;

    /// <summary>True when a block with this hash is cached.</summary>
    public bool Contains(BlockHash hash) => _nodes.ContainsKey(hash);

    /// <summary>Finds the block that caches <paramref name="hash"/>.</summary>
    public bool TryGetBlockId(BlockHash hash, out int blockId)
    {
        if (_nodes.TryGetValue(hash, out Node node))
        {
            blockId = node.BlockId;
            return true;
        }
        blockId = -1;
        return false;
    }

    /// <summary>Length, in blocks, of the longest prefix of <paramref name="blockHashes"/> that is cached.</summary>
    public int CountCachedBlocks(ReadOnlySpan<BlockHash> blockHashes)
    {
        int i = 0;
        while (i < blockHashes.Length && _nodes.ContainsKey(blockHashes[i]))
            i++;
        return i;
    }

    /// <summary>
    /// Number of leading tokens of <paramref name="tokenIds"/> whose KV is cached under <paramref name="keys"/>
    /// (a multiple of <see cref="BlockSize"/>; a trailing partial block never counts). Hashes block by block and
    /// stops at the first miss; allocates nothing.
    /// </summary>
    public int CountCachedTokens(ReadOnlySpan<int> tokenIds, PrefixCacheKeys keys)
    {
        BlockHash keysHash = Hasher.HashKeys(keys);
        BlockHash parent = BlockHash.None;
        int numFull = tokenIds.Length / BlockSize;
        int i = 0;
        for (; i < numFull; i++)
        {
            parent = Hasher.HashBlock(parent, keysHash, tokenIds.Slice(i * BlockSize, BlockSize));
            if (!_nodes.ContainsKey(parent))
                break;
        }
        return i * BlockSize;
    }

    /// <summary>Adds a cached block. Returns false (and changes nothing) when the hash is already indexed.</summary>
    internal bool Insert(BlockHash hash, BlockHash parentHash, int blockId) => _nodes.TryAdd(hash, new Node(parentHash, blockId));

    /// <summary>Removes a cached block's node.</summary>
    internal bool Remove(BlockHash hash) => _nodes.Remove(hash);

    /// <summary>Removes every node.</summary>
    internal void Clear() => _nodes.Clear();

    /// <summary>A cached block: its parent's hash (the edge to the parent node) and where its KV lives.</summary>
    private readonly record struct Node(BlockHash ParentHash, int BlockId);
}
