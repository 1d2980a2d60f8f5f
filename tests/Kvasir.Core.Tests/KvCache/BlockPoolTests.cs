using Kvasir.Core.KvCache;

namespace Kvasir.Core.Tests.KvCache;

public class BlockPoolTests
{
    private static BlockPool NewPool(int numBlocks, bool caching = true) =>
        new(numBlocks, caching, new RadixPrefixIndex(BlockHasher.Default, 4));

    private static BlockHash H(ulong x) => new(x, ~x);

    [Fact]
    public void HandsOutBlocksInIdOrder()
    {
        BlockPool pool = NewPool(5);
        var ids = new List<int>();
        pool.GetNewBlocks(3, ids);
        Assert.Equal([0, 1, 2], ids);
        Assert.Equal(2, pool.NumFreeBlocks);
        Assert.Equal([3, 4], pool.FreeQueueToArray());
        Assert.All(ids, id => Assert.Equal(1, pool.GetRefCount(id)));
    }

    [Fact]
    public void FreedCachedBlocksGoToTailUncachedToHead()
    {
        BlockPool pool = NewPool(6);
        var ids = new List<int>();
        pool.GetNewBlocks(4, ids); // 0 1 2 3; free: 4 5
        Assert.True(pool.CacheFullBlock(0, H(10), BlockHash.None));
        Assert.True(pool.CacheFullBlock(1, H(11), H(10)));

        // A request's blocks are freed last-first: 3 (uncached), 2 (uncached), 1, 0 (cached).
        pool.FreeBlocks([3, 2, 1, 0]);
        Assert.Equal([2, 3, 4, 5, 1, 0], pool.FreeQueueToArray());
        Assert.Equal(6, pool.NumFreeBlocks);
        Assert.Equal(2, pool.NumCachedBlocks); // free but still findable
        Assert.True(pool.TryGetCachedBlock(H(11), out int found));
        Assert.Equal(1, found);
    }

    [Fact]
    public void ReusingACachedBlockEvictsItsHash()
    {
        BlockPool pool = NewPool(2);
        var ids = new List<int>();
        pool.GetNewBlocks(2, ids);
        pool.CacheFullBlock(0, H(1), BlockHash.None);
        pool.CacheFullBlock(1, H(2), H(1));
        pool.FreeBlocks([1, 0]); // queue: 1 0

        Assert.Equal(1, pool.GetNewBlock());
        Assert.Equal(1, pool.NumEvictions);
        Assert.False(pool.TryGetCachedBlock(H(2), out _));
        Assert.True(pool.TryGetCachedBlock(H(1), out _));
        Assert.False(pool.IsCached(1));
    }

    [Fact]
    public void TouchUnlinksAFreeCachedBlockFromTheMiddle()
    {
        BlockPool pool = NewPool(4);
        var ids = new List<int>();
        pool.GetNewBlocks(4, ids);
        for (int i = 0; i < 4; i++)
            pool.CacheFullBlock(i, H((ulong)i + 1), BlockHash.None);
        pool.FreeBlocks([0, 1, 2, 3]);
        Assert.Equal([0, 1, 2, 3], pool.FreeQueueToArray());

        pool.Touch(2);
        Assert.Equal([0, 1, 3], pool.FreeQueueToArray());
        Assert.Equal(1, pool.GetRefCount(2));
        pool.Touch(2);
        Assert.Equal(2, pool.GetRefCount(2));

        pool.FreeBlock(2);
        Assert.Equal([0, 1, 3], pool.FreeQueueToArray());
        pool.FreeBlock(2);
        Assert.Equal([0, 1, 3, 2], pool.FreeQueueToArray());
    }

    [Fact]
    public void DoubleFreeThrows()
    {
        BlockPool pool = NewPool(2);
        int id = pool.GetNewBlock();
        pool.FreeBlock(id);
        Assert.Throws<InvalidOperationException>(() => pool.FreeBlock(id));
    }

    [Fact]
    public void DuplicateHashKeepsTheFirstBlock()
    {
        BlockPool pool = NewPool(3);
        int a = pool.GetNewBlock();
        int b = pool.GetNewBlock();
        Assert.True(pool.CacheFullBlock(a, H(7), BlockHash.None));
        Assert.False(pool.CacheFullBlock(b, H(7), BlockHash.None));
        Assert.True(pool.TryGetCachedBlock(H(7), out int found));
        Assert.Equal(a, found);
        Assert.False(pool.IsCached(b));
    }

    [Fact]
    public void EmptyPoolThrowsOnGetNewBlock()
    {
        BlockPool pool = NewPool(1);
        pool.GetNewBlock();
        Assert.Throws<InvalidOperationException>(() => pool.GetNewBlock());
    }

    [Fact]
    public void ResetDropsEveryHashAndKeepsOrder()
    {
        BlockPool pool = NewPool(3);
        var ids = new List<int>();
        pool.GetNewBlocks(3, ids);
        pool.CacheFullBlock(0, H(1), BlockHash.None);
        pool.CacheFullBlock(1, H(2), H(1));
        pool.FreeBlocks([1, 0]);
        Assert.Equal(2, pool.ResetPrefixCache());
        Assert.Equal(0, pool.NumCachedBlocks);
        Assert.Equal([1, 0], pool.FreeQueueToArray());
        Assert.Equal(1, pool.GetNewBlock());
        Assert.Equal(0, pool.NumEvictions);
    }
}
