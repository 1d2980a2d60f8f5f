using System.Runtime.InteropServices;

namespace Kvasir.Core.KvCache;

/// <summary>
/// Block ids handed from the KV cache manager to the scheduler: the prefix-cache hit of
/// <see cref="KvCacheManager.GetComputedBlocks"/> or the new blocks of <see cref="KvCacheManager.AllocateSlots"/>.
/// The manager reuses one instance per request for each of the two, so a result is valid until the next call
/// of the same method for the same request.
/// </summary>
public sealed class KvCacheBlocks
{
    private readonly List<int> _blockIds = [];

    internal KvCacheBlocks()
    {
    }

    /// <summary>Number of blocks.</summary>
    public int Count => _blockIds.Count;

    /// <summary>The block ids, in block-table order.</summary>
    public ReadOnlySpan<int> BlockIds => CollectionsMarshal.AsSpan(_blockIds);

    /// <summary>The list the manager fills.</summary>
    internal List<int> Ids => _blockIds;
}
