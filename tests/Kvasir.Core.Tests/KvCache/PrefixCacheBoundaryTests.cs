using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;
using static Kvasir.Core.Tests.KvCache.Kv;

namespace Kvasir.Core.Tests.KvCache;

public class PrefixCacheBoundaryTests
{
    private const int BlockSize = 16;

    // A 48-token prompt is cached; a second prompt shares its first `shared` tokens and then diverges.
    // Only whole blocks are reused: hit = floor(shared / 16) blocks.
    [Theory]
    [InlineData(15, 0)]
    [InlineData(16, 16)]
    [InlineData(17, 16)]
    [InlineData(31, 16)]
    [InlineData(32, 32)]
    [InlineData(33, 32)]
    [InlineData(47, 32)]
    [InlineData(48, 48)]
    public void SharedPrefixThenDivergence(int shared, int expectedHit)
    {
        var kv = new KvCacheManager(numBlocks: 32, blockSize: BlockSize);
        Request first = Req("first", Range(0, 48));
        Prefill(kv, first);

        Request second = Req("second", [.. Range(0, shared), .. Range(10_000, 20)]);
        Assert.Equal(expectedHit, kv.CountCachedTokens(second));
        Assert.Equal(expectedHit, Prefill(kv, second));
        int[] firstTable = Table(kv, first);
        int[] secondTable = Table(kv, second);
        Assert.Equal(firstTable[..(expectedHit / BlockSize)], secondTable[..(expectedHit / BlockSize)]);
        Assert.Empty(secondTable[(expectedHit / BlockSize)..].Intersect(firstTable));
    }

    // The second prompt is exactly the first `length` tokens of the cached one: the last token is always
    // recomputed, so the hit is floor((length - 1) / 16) blocks.
    [Theory]
    [InlineData(1, 0)]
    [InlineData(15, 0)]
    [InlineData(16, 0)]
    [InlineData(17, 16)]
    [InlineData(31, 16)]
    [InlineData(32, 16)]
    [InlineData(33, 32)]
    [InlineData(48, 32)]
    public void PromptThatIsACachedPrefix(int length, int expectedHit)
    {
        var kv = new KvCacheManager(numBlocks: 32, blockSize: BlockSize);
        Prefill(kv, Req("first", Range(0, 48)));
        Request second = Req("second", Range(0, length));
        Assert.Equal(expectedHit, Prefill(kv, second));
        Assert.Equal((length + BlockSize - 1) / BlockSize, Table(kv, second).Length);
    }

    // Output tokens extend the chain: a request that continues another's prompt and output hits the blocks that the
    // first request filled while decoding.
    [Fact]
    public void DecodedBlocksAreCachedToo()
    {
        var kv = new KvCacheManager(numBlocks: 32, blockSize: BlockSize);
        Request first = Req("first", Range(0, 10));
        Prefill(kv, first);
        for (int t = 0; t < 30; t++)
            Decode(kv, first, 500 + t); // 40 tokens: blocks 0 and 1 full
        Assert.Equal(2, kv.NumCachedBlocks);

        Request follow = Req("follow", [.. first.TokenIds[..40].ToArray(), 1, 2, 3]);
        Assert.Equal(32, Prefill(kv, follow));
    }
}
