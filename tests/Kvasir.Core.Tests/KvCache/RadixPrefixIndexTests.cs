using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;
using static Kvasir.Core.Tests.KvCache.Kv;

namespace Kvasir.Core.Tests.KvCache;

public class RadixPrefixIndexTests
{
    [Fact]
    public void CountsWithoutTouchingPoolOrEvictionOrder()
    {
        var kv = new KvCacheManager(numBlocks: 12, blockSize: 4);
        Request a = Req("a", Range(0, 13), salt: "t");
        Prefill(kv, a);
        kv.Free(a);
        int[] queueBefore = FreeQueue(kv);
        KvCacheStats statsBefore = kv.Stats;

        RadixPrefixIndex index = kv.PrefixIndex;
        Assert.Equal(12, index.CountCachedTokens(Range(0, 13), new PrefixCacheKeys("t")));
        Assert.Equal(12, index.CountCachedTokens(Range(0, 12), new PrefixCacheKeys("t"))); // the index does not cap
        Assert.Equal(8, index.CountCachedTokens([.. Range(0, 9), 99, 10, 11, 12], new PrefixCacheKeys("t")));
        Assert.Equal(0, index.CountCachedTokens(Range(0, 13), new PrefixCacheKeys("u")));
        Assert.Equal(0, index.CountCachedTokens(Range(1, 13), new PrefixCacheKeys("t")));
        Assert.Equal(8, kv.CountCachedTokens(Req("b", Range(0, 12), salt: "t"))); // the manager caps at NumTokens - 1

        Assert.Equal(queueBefore, FreeQueue(kv));
        Assert.Equal(statsBefore, kv.Stats);
        Assert.All(queueBefore, id => Assert.Equal(0, kv.Pool.GetRefCount(id)));
    }

    [Fact]
    public void StaysInSyncWithEvictions()
    {
        var kv = new KvCacheManager(numBlocks: 3, blockSize: 4);
        Request a = Req("a", Range(0, 12));
        Prefill(kv, a);
        kv.Free(a); // queue: 2 1 0 (last-first)
        Assert.Equal(3, kv.PrefixIndex.Count);

        var hashes = new BlockHash[3];
        BlockHasher.Default.HashBlocks(Range(0, 12), default, 4, hashes);
        Assert.Equal(3, kv.PrefixIndex.CountCachedBlocks(hashes));

        Prefill(kv, Req("b", Range(100, 4))); // takes block 2 and evicts the tail of a
        Assert.Equal(2, kv.PrefixIndex.CountCachedBlocks(hashes));
        Assert.False(kv.PrefixIndex.Contains(hashes[2]));
        Assert.True(kv.PrefixIndex.TryGetBlockId(hashes[0], out int id0));
        Assert.Equal(0, id0);
    }
}
