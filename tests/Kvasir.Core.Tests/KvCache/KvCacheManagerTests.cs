using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;
using static Kvasir.Core.Tests.KvCache.Kv;

namespace Kvasir.Core.Tests.KvCache;

public class KvCacheManagerTests
{
    [Fact]
    public void AllocatesFreesAndHitsWithExactBlockIds()
    {
        var kv = new KvCacheManager(numBlocks: 10, blockSize: 4);
        Request a = Req("a", Range(0, 10));   // blocks: [0 1 2], block 2 partial (2 tokens)
        Request b = Req("b", Range(500, 5));  // blocks: [3 4]
        Assert.Equal(0, Prefill(kv, a));
        Assert.Equal(0, Prefill(kv, b));
        Assert.Equal([0, 1, 2], Table(kv, a));
        Assert.Equal([3, 4], Table(kv, b));
        Assert.Equal([5, 6, 7, 8, 9], FreeQueue(kv));
        Assert.Equal(3, kv.NumCachedBlocks); // a's 0 1, b's 3
        Assert.Equal(0.5, kv.Usage);

        // Freed last-first: the partial block 2 (uncached) goes to the head, then 1 and 0 to the tail.
        kv.Free(a);
        Assert.Equal([2, 5, 6, 7, 8, 9, 1, 0], FreeQueue(kv));
        Assert.Empty(Table(kv, a));

        // c shares a's first 8 tokens: it takes blocks 0 and 1 out of the free queue and one new block (2).
        Request c = Req("c", [.. Range(0, 8), 100, 101]);
        Assert.Equal(8, Prefill(kv, c));
        Assert.Equal([0, 1, 2], Table(kv, c));
        Assert.Equal([5, 6, 7, 8, 9], FreeQueue(kv));
        Assert.Equal(8, kv.GetComputedBlocks(Req("probe", Range(0, 9))).NumComputedTokens);
        Assert.Equal(new KvCacheStats(4, 10 + 5 + 10 + 9, 8 + 8, 0, 0), kv.Stats);
    }

    [Fact]
    public void TailBlocksAreEvictedBeforeHeadBlocks()
    {
        var kv = new KvCacheManager(numBlocks: 4, blockSize: 4);
        Request a = Req("a", Range(0, 8)); // two full blocks [0 1]
        Prefill(kv, a);
        kv.Free(a);
        Assert.Equal([2, 3, 1, 0], FreeQueue(kv));

        Request b = Req("b", Range(100, 12)); // needs three blocks: 2, 3 and a's tail block 1
        Prefill(kv, b);
        Assert.Equal([2, 3, 1], Table(kv, b));
        Assert.Equal(1, kv.Stats.Evictions);

        // a's head block survived: a comes back and hits it.
        Request again = Req("a2", Range(0, 8));
        var (hit, tokens) = kv.GetComputedBlocks(again);
        Assert.Equal(4, tokens);
        Assert.Equal([0], hit.BlockIds.ToArray());
    }

    [Fact]
    public void ReturnsNullWhenShortAndChangesNothing()
    {
        var kv = new KvCacheManager(numBlocks: 4, blockSize: 4);
        Request a = Req("a", Range(0, 12));
        Prefill(kv, a);
        Request b = Req("b", Range(100, 8));
        Assert.Equal(-1, Prefill(kv, b));
        Assert.Empty(Table(kv, b));
        Assert.Equal(1, kv.NumFreeBlocks);
        Assert.Equal(1, kv.NumRequests);

        // a decodes into its fourth block, then runs out.
        Assert.True(Decode(kv, a, 7));
        Assert.Equal([0, 1, 2, 3], Table(kv, a));
        Assert.True(Decode(kv, a, 7));
        Assert.True(Decode(kv, a, 7));
        Assert.True(Decode(kv, a, 7));
        Assert.False(Decode(kv, a, 7)); // token 17 needs a fifth block
        Assert.Equal(16, a.NumComputedTokens);
        Assert.Equal(4, Table(kv, a).Length);
    }

    [Fact]
    public void FreeHitBlocksCountAgainstFreeMemory()
    {
        var kv = new KvCacheManager(numBlocks: 3, blockSize: 4);
        Request a = Req("a", Range(0, 9));
        Prefill(kv, a);
        kv.Free(a);
        Assert.Equal([2, 1, 0], FreeQueue(kv));

        // 13 tokens: hit 0 1 (both free) + 2 new = 4 blocks > 3.
        Request big = Req("big", [.. Range(0, 8), 50, 51, 52, 53, 54]);
        Assert.Equal(-1, Prefill(kv, big));
        Assert.Equal([2, 1, 0], FreeQueue(kv));
        Assert.Equal(2, kv.NumCachedBlocks);

        // 9 tokens: hit 0 1 + 1 new (block 2) = 3 blocks.
        Request fits = Req("fits", [.. Range(0, 8), 60]);
        Assert.Equal(8, Prefill(kv, fits));
        Assert.Equal([0, 1, 2], Table(kv, fits));
        Assert.Empty(FreeQueue(kv));
    }

    [Fact]
    public void ChunkedPrefillCachesBlocksAsTheyFill()
    {
        var kv = new KvCacheManager(numBlocks: 8, blockSize: 4);
        Request a = Req("a", Range(0, 11));
        Assert.NotNull(kv.AllocateSlots(a, 6));
        a.NumComputedTokens = 6;
        Assert.Equal([0, 1], Table(kv, a));
        Assert.Equal(1, kv.NumCachedBlocks);

        KvCacheBlocks? more = kv.AllocateSlots(a, 5);
        Assert.NotNull(more);
        Assert.Equal([2], more.BlockIds.ToArray());
        a.NumComputedTokens = 11;
        Assert.Equal(2, kv.NumCachedBlocks);
        Assert.Equal(8, kv.CountCachedTokens(Req("b", Range(0, 12))));
    }

    [Fact]
    public void FullyCachedPromptStillComputesItsLastToken()
    {
        var kv = new KvCacheManager(numBlocks: 8, blockSize: 4);
        Prefill(kv, Req("a", Range(0, 8)));
        Request b = Req("b", Range(0, 8));
        Assert.Equal(4, Prefill(kv, b)); // not 8: block 1 holds token 7, which must be recomputed
        Assert.Equal(0, Table(kv, b)[0]);
        Assert.Equal(2, Table(kv, b).Length);
    }

    [Fact]
    public void DisabledPrefixCachingNeverHitsOrCaches()
    {
        var kv = new KvCacheManager(numBlocks: 6, blockSize: 4, enablePrefixCaching: false);
        Request a = Req("a", Range(0, 8));
        Prefill(kv, a);
        kv.Free(a);
        Assert.Equal(0, kv.NumCachedBlocks);
        Assert.Equal([0, 1, 2, 3, 4, 5], FreeQueue(kv)); // uncached blocks return to the head
        Assert.Equal(0, Prefill(kv, Req("b", Range(0, 8))));
        Assert.Equal(0, kv.Stats.PrefixCacheQueries);
        Assert.Equal(0, kv.CountCachedTokens(Req("c", Range(0, 8))));
    }

    [Fact]
    public void ResetPrefixCacheForgetsHashesButKeepsRunningRequests()
    {
        var kv = new KvCacheManager(numBlocks: 8, blockSize: 4);
        Request a = Req("a", Range(0, 9));
        Prefill(kv, a);
        Assert.Equal(2, kv.ResetPrefixCache());
        Assert.Equal(0, kv.NumCachedBlocks);
        Assert.Equal(0, Prefill(kv, Req("b", Range(0, 9))));
        Assert.Equal([0, 1, 2], Table(kv, a));
    }

    [Fact]
    public void FreeIsIdempotentAndRecyclesTables()
    {
        var kv = new KvCacheManager(numBlocks: 4, blockSize: 4);
        Request a = Req("a", Range(0, 5));
        Prefill(kv, a);
        kv.Free(a);
        kv.Free(a);
        Assert.Equal(4, kv.NumFreeBlocks);
        Assert.Equal(0, kv.NumRequests);
        kv.Free(Req("never", [1]));
    }

    [Fact]
    public void RejectsMismatchedHitArguments()
    {
        var kv = new KvCacheManager(numBlocks: 8, blockSize: 4);
        Prefill(kv, Req("a", Range(0, 9)));
        Request b = Req("b", Range(0, 9));
        var (hit, numHit) = kv.GetComputedBlocks(b);
        Assert.Throws<ArgumentException>(() => kv.AllocateSlots(b, 1, numHit - 1, hit));
        Assert.Throws<ArgumentOutOfRangeException>(() => kv.AllocateSlots(b, -1));
    }

    [Fact]
    public void SteadyDecodeDoesNotAllocate()
    {
        var kv = new KvCacheManager(numBlocks: 128, blockSize: 16);
        Request a = Req("a", Range(0, 20));
        Prefill(kv, a);
        // Warm-up: the request's token list reaches capacity 2304 and its hash list 128, so they do not grow below.
        for (int i = 0; i < 1200; i++)
            Decode(kv, a, i);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            Decode(kv, a, i); // crosses six block boundaries: new blocks, caching, hashing
            _ = kv.GetBlockIds(a);
            _ = kv.TakePendingCopies();
            _ = kv.Usage;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
