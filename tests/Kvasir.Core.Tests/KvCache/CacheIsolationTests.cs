using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;
using static Kvasir.Core.Tests.KvCache.Kv;

namespace Kvasir.Core.Tests.KvCache;

public class CacheIsolationTests
{
    [Fact]
    public void DifferentSaltsNeverShareABlock()
    {
        var kv = new KvCacheManager(numBlocks: 32, blockSize: 4);
        int[] prompt = Range(0, 21);
        Request a = Req("a", prompt, salt: "tenant-a");
        Request b = Req("b", prompt, salt: "tenant-b");
        Request none = Req("none", prompt);
        Prefill(kv, a);

        Assert.Equal(0, kv.CountCachedTokens(b));
        Assert.Equal(0, Prefill(kv, b));
        Assert.Equal(0, Prefill(kv, none));
        Assert.Empty(Table(kv, a).Intersect(Table(kv, b)));
        Assert.Empty(Table(kv, a).Intersect(Table(kv, none)));
        Assert.Empty(Table(kv, b).Intersect(Table(kv, none)));

        // Even after a is gone, b's tenant cannot reach a's blocks.
        kv.Free(a);
        Assert.Equal(0, kv.CountCachedTokens(Req("b2", prompt, salt: "tenant-b2")));
    }

    [Fact]
    public void SameSaltShares()
    {
        var kv = new KvCacheManager(numBlocks: 32, blockSize: 4);
        int[] prompt = Range(0, 21);
        Request a = Req("a", prompt, salt: "tenant-a");
        Request a2 = Req("a2", prompt, salt: "tenant-a");
        Prefill(kv, a);
        Assert.Equal(20, Prefill(kv, a2));
        Assert.Equal(Table(kv, a)[..5], Table(kv, a2)[..5]);
    }

    [Theory]
    [InlineData("model-2", null)]
    [InlineData(null, "adapter-x")]
    public void ModelAndExtraKeysIsolateToo(string? modelId, string? extraKey)
    {
        var kv = new KvCacheManager(numBlocks: 32, blockSize: 4);
        int[] prompt = Range(0, 9);
        Prefill(kv, new Request("a", prompt, new PrefixCacheKeys("t", "model-1")));
        var other = new Request("b", prompt, new PrefixCacheKeys("t", modelId ?? "model-1", extraKey));
        Assert.Equal(0, Prefill(kv, other));
    }
}
