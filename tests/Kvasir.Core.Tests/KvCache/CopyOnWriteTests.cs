using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;
using static Kvasir.Core.Tests.KvCache.Kv;

namespace Kvasir.Core.Tests.KvCache;

public class CopyOnWriteTests
{
    private static Request ForkOf(KvCacheManager kv, Request parent, string id)
    {
        var child = new Request(id, parent.TokenIds[..parent.NumComputedTokens], parent.CacheKeys)
        {
            NumComputedTokens = parent.NumComputedTokens,
        };
        kv.Fork(parent, child);
        return child;
    }

    [Fact]
    public void FirstWriteIntoSharedPartialBlockCopiesIt()
    {
        var kv = new KvCacheManager(numBlocks: 10, blockSize: 4);
        Request parent = Req("p", Range(0, 6)); // [0 1], block 1 holds 2 tokens
        Prefill(kv, parent);
        Request child = ForkOf(kv, parent, "c");
        Assert.Equal([0, 1], Table(kv, child));
        Assert.Equal(2, kv.Pool.GetRefCount(0));
        Assert.Equal(2, kv.Pool.GetRefCount(1));
        Assert.Equal(8, kv.NumFreeBlocks);

        // The parent writes position 6 into shared block 1: it gets block 2, a copy of 1.
        Assert.True(Decode(kv, parent, 42));
        Assert.Equal([0, 2], Table(kv, parent));
        Assert.Equal([new BlockCopy(1, 2)], kv.TakePendingCopies());
        Assert.Empty(kv.TakePendingCopies());
        Assert.Equal(1, kv.Pool.GetRefCount(1));

        // The child is now block 1's only holder and writes in place.
        Assert.True(Decode(kv, child, 43));
        Assert.Equal([0, 1], Table(kv, child));
        Assert.Equal(0, kv.NumPendingCopies);
        Assert.Equal(1, kv.Stats.CopyOnWriteCopies);

        kv.Free(parent);
        kv.Free(child);
        Assert.Equal(10, kv.NumFreeBlocks);
    }

    [Fact]
    public void ForkAtABlockBoundaryNeedsNoCopy()
    {
        var kv = new KvCacheManager(numBlocks: 10, blockSize: 4);
        Request parent = Req("p", Range(0, 8));
        Prefill(kv, parent);
        Request child = ForkOf(kv, parent, "c");
        Assert.True(Decode(kv, parent, 1));
        Assert.True(Decode(kv, child, 2));
        Assert.Equal([0, 1, 2], Table(kv, parent));
        Assert.Equal([0, 1, 3], Table(kv, child));
        Assert.Equal(0, kv.NumPendingCopies);
    }

    [Fact]
    public void ThreeWayForkCopiesForAllButTheLastWriter()
    {
        var kv = new KvCacheManager(numBlocks: 10, blockSize: 4);
        Request p = Req("p", Range(0, 5));
        Prefill(kv, p);
        Request c1 = ForkOf(kv, p, "c1");
        Request c2 = ForkOf(kv, p, "c2");
        Assert.Equal(3, kv.Pool.GetRefCount(1));

        Decode(kv, c2, 1);
        Decode(kv, p, 2);
        Decode(kv, c1, 3);
        Assert.Equal([new BlockCopy(1, 2), new BlockCopy(1, 3)], kv.TakePendingCopies());
        Assert.Equal([0, 2], Table(kv, c2));
        Assert.Equal([0, 3], Table(kv, p));
        Assert.Equal([0, 1], Table(kv, c1));
    }

    [Fact]
    public void CopyCountsAgainstFreeMemory()
    {
        var kv = new KvCacheManager(numBlocks: 2, blockSize: 4);
        Request p = Req("p", Range(0, 5));
        Prefill(kv, p);                     // [0 1]; nothing free
        Request c = ForkOf(kv, p, "c");
        p.AppendOutputToken(9);
        Assert.Null(kv.AllocateSlots(p, 1)); // writing position 5 needs a block for the copy
        Assert.Equal([0, 1], Table(kv, p));
        Assert.Equal(0, kv.NumPendingCopies);
        kv.Free(c);
        Assert.NotNull(kv.AllocateSlots(p, 1)); // sole holder now: writes in place
        Assert.Equal([0, 1], Table(kv, p));
        Assert.Equal(0, kv.NumPendingCopies);
    }

    [Fact]
    public void ForkIntoARequestWithBlocksThrows()
    {
        var kv = new KvCacheManager(numBlocks: 8, blockSize: 4);
        Request p = Req("p", Range(0, 5));
        Request q = Req("q", Range(0, 5));
        Prefill(kv, p);
        Prefill(kv, q);
        Assert.Throws<InvalidOperationException>(() => kv.Fork(p, q));
    }
}
