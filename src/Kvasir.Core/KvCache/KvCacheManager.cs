using System.Diagnostics;
using System.Runtime.InteropServices;
using Kvasir.Core.Requests;

namespace Kvasir.Core.KvCache;

/// <summary>
/// The paged KV cache's bookkeeping, and the scheduler's only way to it: block tables per request, automatic
/// prefix caching by chained block hashes, copy-on-write for forked sequences, and usage figures. It knows no
/// tensors: block ids index an arena that the engine owns. One thread (the engine's) calls it; no locks.
/// </summary>
/// <remarks>
/// <para>The seam, as in vLLM v1:</para>
/// <code>
/// var (hit, numHitTokens) = kv.GetComputedBlocks(request);          // new or preempted request
/// var blocks = kv.AllocateSlots(request, numNewTokens, numHitTokens, hit);
/// if (blocks is null) { /* out of KV memory: preempt someone or wait */ }
/// ...                                                             // run; request.NumComputedTokens += ...
/// kv.Free(request);                                               // finished, aborted or preempted
/// </code>
/// <para>Full blocks are cached when their slots are allocated (the hash depends only on tokens that are
/// already known), so a request scheduled later in the same step can hit them: the runner must therefore
/// write each layer's K and V for all scheduled tokens before that layer's attention reads any of them.</para>
/// <para>KV waste: a request holds exactly ceil(allocated tokens / BlockSize) blocks, so at most one partial block.</para>
/// </remarks>
public sealed class KvCacheManager
{
    private readonly BlockPool _pool;
    private readonly BlockHasher _hasher;
    private readonly Dictionary<string, RequestBlockTable> _tables = new(StringComparer.Ordinal);
    private readonly Stack<RequestBlockTable> _spareTables = new();
    private readonly List<BlockCopy> _pendingCopies = [];
    private long _prefixCacheRequests;
    private long _prefixCacheQueries;
    private long _prefixCacheHits;
    private long _copyOnWriteCopies;

    /// <summary>Creates a manager over an arena of <paramref name="numBlocks"/> blocks, all free.</summary>
    /// <param name="numBlocks">Blocks in the arena (block ids are 0..numBlocks-1).</param>
    /// <param name="blockSize">Tokens per block.</param>
    /// <param name="enablePrefixCaching">False turns off prefix caching (the feature-off baseline): no hashing, no hits.</param>
    /// <param name="hasher">Block hasher; <see cref="BlockHasher.Default"/> when null. Use a secret key with untrusted clients.</param>
    public KvCacheManager(int numBlocks, int blockSize = 16, bool enablePrefixCaching = true, BlockHasher? hasher = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numBlocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        BlockSize = blockSize;
        _hasher = hasher ?? BlockHasher.Default;
        PrefixIndex = new RadixPrefixIndex(_hasher, blockSize);
        _pool = new BlockPool(numBlocks, enablePrefixCaching, PrefixIndex);
    }

    /// <summary>Tokens per block.</summary>
    public int BlockSize { get; }

    /// <summary>Total blocks in the arena.</summary>
    public int NumBlocks => _pool.NumBlocks;

    /// <summary>Whether prefix caching is on.</summary>
    public bool EnablePrefixCaching => _pool.EnableCaching;

    /// <summary>Blocks that can be handed out now (free, including cached blocks that nobody holds).</summary>
    public int NumFreeBlocks => _pool.NumFreeBlocks;

    /// <summary>Blocks held by at least one request.</summary>
    public int NumUsedBlocks => _pool.NumBlocks - _pool.NumFreeBlocks;

    /// <summary>Blocks findable in the prefix cache, held or free.</summary>
    public int NumCachedBlocks => _pool.NumCachedBlocks;

    /// <summary>Fraction of blocks held by requests, in [0, 1].</summary>
    public double Usage => (double)NumUsedBlocks / _pool.NumBlocks;

    /// <summary>Number of requests that hold blocks.</summary>
    public int NumRequests => _tables.Count;

    /// <summary>Cumulative prefix-cache, eviction and copy-on-write counters.</summary>
    public KvCacheStats Stats => new(_prefixCacheRequests, _prefixCacheQueries, _prefixCacheHits, _pool.NumEvictions, _copyOnWriteCopies);

    /// <summary>The index of cached blocks, for read-only queries (cache-aware scheduling and routing).</summary>
    public RadixPrefixIndex PrefixIndex { get; }

    /// <summary>Copy-on-write copies recorded since the last <see cref="TakePendingCopies"/>, in the order recorded.</summary>
    public int NumPendingCopies => _pendingCopies.Count;

    /// <summary>The pool, for tests.</summary>
    internal BlockPool Pool => _pool;

    /// <summary>
    /// Finds the longest cached prefix of the request in whole blocks, capped so that at least the last token is
    /// computed (its logits are needed): at most floor((NumTokens - 1) / BlockSize) blocks. Takes no reference
    /// and changes no eviction order; pass the result straight to <see cref="AllocateSlots"/>, with no other
    /// allocation in between. Counts a prefix-cache query of NumTokens tokens.
    /// </summary>
    /// <param name="request">A request that holds no blocks (new or preempted).</param>
    /// <returns>The hit blocks (valid until the next call for this request) and the number of tokens they hold.</returns>
    public (KvCacheBlocks Blocks, int NumComputedTokens) GetComputedBlocks(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        KvCacheBlocks result = request.ComputedBlocksScratch ??= new KvCacheBlocks();
        List<int> ids = result.Ids;
        ids.Clear();
        if (!_pool.EnableCaching)
            return (result, 0);

        UpdateBlockHashes(request);
        ReadOnlySpan<BlockHash> hashes = CollectionsMarshal.AsSpan(request.BlockHashes);
        int maxBlocks = (request.NumTokens - 1) / BlockSize;
        for (int i = 0; i < maxBlocks; i++)
        {
            if (!_pool.TryGetCachedBlock(hashes[i], out int blockId))
                break;
            ids.Add(blockId);
        }
        int numTokens = ids.Count * BlockSize;
        _prefixCacheRequests++;
        _prefixCacheQueries += request.NumTokens;
        _prefixCacheHits += numTokens;
        return (result, numTokens);
    }

    /// <summary>
    /// Counts the request's cached prefix tokens as <see cref="GetComputedBlocks"/> would, without taking blocks,
    /// changing the eviction order or counting a query (for cache-aware ordering of the waiting queue).
    /// </summary>
    public int CountCachedTokens(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_pool.EnableCaching)
            return 0;
        UpdateBlockHashes(request);
        int maxBlocks = (request.NumTokens - 1) / BlockSize;
        return PrefixIndex.CountCachedBlocks(CollectionsMarshal.AsSpan(request.BlockHashes)[..maxBlocks]) * BlockSize;
    }

    /// <summary>
    /// Makes room for the request's next tokens: takes the prefix-cache hit (if any), replaces shared blocks it is
    /// about to write into (copy-on-write, recorded for <see cref="TakePendingCopies"/>), appends new blocks up to
    /// ceil((NumComputedTokens + numNewComputedTokens + numNewTokens) / BlockSize), and caches the blocks that
    /// become full. Changes nothing and returns null when there are not enough free blocks.
    /// </summary>
    /// <param name="request">The request; its <see cref="Request.NumComputedTokens"/> is not changed here.</param>
    /// <param name="numNewTokens">Tokens to compute this step (after the prefix hit).</param>
    /// <param name="numNewComputedTokens">Tokens of the prefix hit (<see cref="GetComputedBlocks"/>), 0 otherwise.</param>
    /// <param name="newComputedBlocks">The hit blocks from <see cref="GetComputedBlocks"/>, only for a request that holds no blocks.</param>
    /// <returns>The newly appended blocks (valid until the next call for this request; copy-on-write replacements
    /// are not listed, read <see cref="GetBlockIds"/> for the table), or null when KV memory is short.</returns>
    public KvCacheBlocks? AllocateSlots(Request request, int numNewTokens, int numNewComputedTokens = 0, KvCacheBlocks? newComputedBlocks = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfNegative(numNewTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(numNewComputedTokens);
        int numHitBlocks = newComputedBlocks?.Count ?? 0;
        if (numNewComputedTokens != numHitBlocks * BlockSize)
            throw new ArgumentException($"numNewComputedTokens ({numNewComputedTokens}) must equal the hit blocks' tokens ({numHitBlocks} x {BlockSize}).", nameof(numNewComputedTokens));

        _tables.TryGetValue(request.RequestId, out RequestBlockTable? table);
        int numHeld = table?.BlockIds.Count ?? 0;
        if (numHitBlocks > 0 && (numHeld > 0 || request.NumComputedTokens > 0))
            throw new InvalidOperationException($"Request '{request.RequestId}' already has KV; prefix-cache hits apply only to a request that holds no blocks.");

        int numComputed = request.NumComputedTokens + numNewComputedTokens;
        int numTokensNeeded = numComputed + numNewTokens;
        int numRequiredBlocks = CeilDiv(numTokensNeeded, BlockSize);
        int numNewBlocks = Math.Max(0, numRequiredBlocks - numHeld - numHitBlocks);

        // Shared blocks (forks) this step writes into: [first written block, last written block].
        int firstWritten = numComputed / BlockSize;
        int endWritten = Math.Min(numHeld, numRequiredBlocks);
        int numCopyOnWrite = 0;
        if (numNewTokens > 0)
        {
            for (int i = firstWritten; i < endWritten; i++)
            {
                if (_pool.GetRefCount(table!.BlockIds[i]) > 1)
                    numCopyOnWrite++;
            }
        }

        // Hit blocks that nobody holds sit in the free queue: taking them shrinks what is free.
        int numEvictableHits = 0;
        if (newComputedBlocks is not null)
        {
            foreach (int id in newComputedBlocks.BlockIds)
            {
                Debug.Assert(_pool.IsCached(id), "A hit block was evicted between GetComputedBlocks and AllocateSlots.");
                if (_pool.GetRefCount(id) == 0)
                    numEvictableHits++;
            }
        }
        if (numNewBlocks + numCopyOnWrite + numEvictableHits > _pool.NumFreeBlocks)
            return null;

        table ??= RentTable(request.RequestId);
        List<int> blockIds = table.BlockIds;

        // Hits first, so that the new blocks below cannot be popped from under them.
        if (newComputedBlocks is not null)
        {
            foreach (int id in newComputedBlocks.BlockIds)
            {
                _pool.Touch(id);
                blockIds.Add(id);
            }
            table.NumCachedBlocks = numHitBlocks;
        }

        if (numCopyOnWrite > 0)
        {
            for (int i = firstWritten; i < endWritten; i++)
            {
                int src = blockIds[i];
                if (_pool.GetRefCount(src) <= 1)
                    continue;
                int dst = _pool.GetNewBlock();
                if (i * BlockSize < numComputed)
                {
                    // Only the block holding the last computed tokens has KV to carry over.
                    _pendingCopies.Add(new BlockCopy(src, dst));
                    _copyOnWriteCopies++;
                }
                _pool.FreeBlock(src); // the other holders keep it
                blockIds[i] = dst;
            }
        }

        KvCacheBlocks result = request.NewBlocksScratch ??= new KvCacheBlocks();
        result.Ids.Clear();
        for (int i = 0; i < numNewBlocks; i++)
        {
            int id = _pool.GetNewBlock();
            blockIds.Add(id);
            result.Ids.Add(id);
        }

        if (_pool.EnableCaching)
            CacheFullBlocks(request, table, Math.Min(numTokensNeeded, request.NumTokens));
        return result;
    }

    /// <summary>
    /// Releases the request's blocks, last block first, so that its tail is evicted before its head (which other
    /// requests are likelier to share). Cached blocks stay findable until reused. Does nothing for a request that
    /// holds none; the request's counters are not changed.
    /// </summary>
    public void Free(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_tables.Remove(request.RequestId, out RequestBlockTable? table))
            return;
        List<int> blockIds = table.BlockIds;
        for (int i = blockIds.Count - 1; i >= 0; i--)
            _pool.FreeBlock(blockIds[i]);
        table.Clear();
        _spareTables.Push(table);
    }

    /// <summary>
    /// Gives <paramref name="child"/> (parallel sampling n &gt; 1, beam search) the parent's blocks that hold the
    /// parent's computed tokens, by reference. The child's token ids must start with the parent's first
    /// NumComputedTokens tokens, and the caller sets <c>child.NumComputedTokens</c> to the parent's. The first
    /// write of either into the shared partial last block copies it (see <see cref="AllocateSlots"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The child already holds blocks.</exception>
    public void Fork(Request parent, Request child)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(child);
        if (_tables.ContainsKey(child.RequestId))
            throw new InvalidOperationException($"Request '{child.RequestId}' already holds KV blocks; fork into a fresh request.");
        if (!_tables.TryGetValue(parent.RequestId, out RequestBlockTable? parentTable))
            return;
        Debug.Assert(
            child.NumTokens >= parent.NumComputedTokens
            && child.TokenIds[..parent.NumComputedTokens].SequenceEqual(parent.TokenIds[..parent.NumComputedTokens]),
            "A forked child starts with the parent's computed tokens.");

        int numShared = Math.Min(parentTable.BlockIds.Count, CeilDiv(parent.NumComputedTokens, BlockSize));
        if (numShared == 0)
            return;
        RequestBlockTable childTable = RentTable(child.RequestId);
        for (int i = 0; i < numShared; i++)
        {
            int id = parentTable.BlockIds[i];
            _pool.Touch(id);
            childTable.BlockIds.Add(id);
        }
        childTable.NumCachedBlocks = Math.Min(parentTable.NumCachedBlocks, numShared);
    }

    /// <summary>The request's block table (empty when it holds none). Valid until the next call that changes it.</summary>
    public ReadOnlySpan<int> GetBlockIds(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _tables.TryGetValue(request.RequestId, out RequestBlockTable? table)
            ? CollectionsMarshal.AsSpan(table.BlockIds)
            : [];
    }

    /// <summary>Returns the copy-on-write copies recorded since the last call and forgets them (an empty array, not allocated, when there are none).</summary>
    public BlockCopy[] TakePendingCopies()
    {
        if (_pendingCopies.Count == 0)
            return [];
        BlockCopy[] copies = [.. _pendingCopies];
        _pendingCopies.Clear();
        return copies;
    }

    /// <summary>
    /// Forgets every cached hash (for example after the weights changed). Blocks in use stay valid for the requests
    /// that hold them but are no longer findable. Returns the number of hashes dropped.
    /// </summary>
    public int ResetPrefixCache() => _pool.ResetPrefixCache();

    private void CacheFullBlocks(Request request, RequestBlockTable table, int numTokens)
    {
        int numFull = numTokens / BlockSize;
        if (numFull <= table.NumCachedBlocks)
            return;
        UpdateBlockHashes(request);
        List<BlockHash> hashes = request.BlockHashes;
        for (int i = table.NumCachedBlocks; i < numFull; i++)
        {
            BlockHash parent = i == 0 ? BlockHash.None : hashes[i - 1];
            _pool.CacheFullBlock(table.BlockIds[i], hashes[i], parent);
        }
        table.NumCachedBlocks = numFull;
    }

    /// <summary>Extends the request's chained hashes to all its full blocks (recomputing them if another hasher or block size made them).</summary>
    private void UpdateBlockHashes(Request request)
    {
        List<BlockHash> hashes = request.BlockHashes;
        if (!ReferenceEquals(request.BlockHashesHasher, _hasher) || request.BlockHashesBlockSize != BlockSize)
        {
            hashes.Clear();
            request.BlockHashesHasher = _hasher;
            request.BlockHashesBlockSize = BlockSize;
            request.CacheKeysHash = _hasher.HashKeys(request.CacheKeys);
        }
        int numFull = request.NumTokens / BlockSize;
        ReadOnlySpan<int> tokens = request.TokenIds;
        for (int i = hashes.Count; i < numFull; i++)
        {
            BlockHash parent = i == 0 ? BlockHash.None : hashes[i - 1];
            hashes.Add(_hasher.HashBlock(parent, request.CacheKeysHash, tokens.Slice(i * BlockSize, BlockSize)));
        }
    }

    private RequestBlockTable RentTable(string requestId)
    {
        RequestBlockTable table = _spareTables.Count > 0 ? _spareTables.Pop() : new RequestBlockTable();
        _tables.Add(requestId, table);
        return table;
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;
}
