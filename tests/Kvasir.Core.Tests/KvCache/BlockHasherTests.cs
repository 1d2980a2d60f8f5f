using Kvasir.Core.KvCache;

namespace Kvasir.Core.Tests.KvCache;

public class BlockHasherTests
{
    private static readonly BlockHasher Hasher = BlockHasher.Default;

    [Fact]
    public void DefaultHashIsPinned()
    {
        // Pinned so that a change of the message layout or key (which would split routers from engines
        // running another build) is a deliberate, visible decision.
        BlockHash keys = Hasher.HashKeys(new PrefixCacheKeys("tenant-a", "llama-3.2-1b"));
        BlockHash block = Hasher.HashBlock(BlockHash.None, keys, Kv.Range(0, 16));
        Assert.Equal(Hasher.HashBlock(BlockHash.None, keys, Kv.Range(0, 16)), block);
        Assert.Equal(PinnedDefaultHash, block.ToString());
    }

    [Fact]
    public void ChainDependsOnParentKeysAndEveryToken()
    {
        BlockHash keys = Hasher.HashKeys(default);
        int[] tokens = Kv.Range(100, 16);
        BlockHash baseline = Hasher.HashBlock(BlockHash.None, keys, tokens);

        var seen = new HashSet<BlockHash> { baseline };
        for (int i = 0; i < tokens.Length; i++)
        {
            int[] changed = (int[])tokens.Clone();
            changed[i]++;
            Assert.True(seen.Add(Hasher.HashBlock(BlockHash.None, keys, changed)));
        }
        Assert.True(seen.Add(Hasher.HashBlock(baseline, keys, tokens)));
        Assert.True(seen.Add(Hasher.HashBlock(BlockHash.None, Hasher.HashKeys(new PrefixCacheKeys("s")), tokens)));
        Assert.True(seen.Add(Hasher.HashBlock(BlockHash.None, keys, tokens.AsSpan(0, 15))));
        Assert.True(seen.Add(new BlockHasher(1, 2).HashBlock(BlockHash.None, keys, tokens)));
    }

    [Fact]
    public void KeysAreUnambiguous()
    {
        // Length prefixes keep ("ab", "c") apart from ("a", "bc") and a salt apart from a model id.
        var hashes = new HashSet<BlockHash>
        {
            Hasher.HashKeys(new PrefixCacheKeys("ab", "c")),
            Hasher.HashKeys(new PrefixCacheKeys("a", "bc")),
            Hasher.HashKeys(new PrefixCacheKeys("abc")),
            Hasher.HashKeys(new PrefixCacheKeys(null, "abc")),
            Hasher.HashKeys(new PrefixCacheKeys(null, null, "abc")),
            Hasher.HashKeys(default),
        };
        Assert.Equal(6, hashes.Count);
        Assert.Equal(Hasher.HashKeys(new PrefixCacheKeys("", "")), Hasher.HashKeys(default));
    }

    [Fact]
    public void HashBlocksChainsFullBlocksOnly()
    {
        int[] tokens = Kv.Range(0, 35);
        var keys = new PrefixCacheKeys("t");
        var hashes = new BlockHash[8];
        Assert.Equal(2, Hasher.HashBlocks(tokens, keys, 16, hashes));

        BlockHash k = Hasher.HashKeys(keys);
        BlockHash h0 = Hasher.HashBlock(BlockHash.None, k, tokens.AsSpan(0, 16));
        Assert.Equal(h0, hashes[0]);
        Assert.Equal(Hasher.HashBlock(h0, k, tokens.AsSpan(16, 16)), hashes[1]);
    }

    private const string PinnedDefaultHash = "56a643ed07f0e9f7544ad13979fa06af";
}
