namespace Kvasir.Core.KvCache;

/// <summary>
/// Computes chained block hashes: <c>hash(block i) = SipHash-2-4-128_key(hash(block i-1), hash(keys), tokens of block i)</c>,
/// with <see cref="BlockHash.None"/> as the parent of block 0. A block's hash therefore names its whole prefix
/// and the request's <see cref="PrefixCacheKeys"/>. Deterministic: every process with the same key computes the
/// same hashes, so routers and the simulator agree with the engine.
/// </summary>
/// <remarks>
/// Collision stance: SipHash is a keyed pseudo-random function, so with a key an attacker does not know, no
/// prompt can be crafted to collide with another's block; with the public default key, a collision costs
/// about 2^64 work (birthday bound on 128 bits). Deployments that serve untrusted clients set a secret key,
/// the same on every replica and router.
/// Message layout (64-bit little-endian words): a domain tag, then for keys each string as its length then its
/// UTF-16 code units four to a word; for a block the parent hash, the keys hash, the token count, then the token
/// ids two to a word.
/// </remarks>
public sealed class BlockHasher
{
    /// <summary>First half of the default (public) key: "kvasir-b" in ASCII.</summary>
    public const ulong DefaultKey0 = 0x622D72697361766BUL;

    /// <summary>Second half of the default (public) key: "lockhash" in ASCII.</summary>
    public const ulong DefaultKey1 = 0x687361686B636F6CUL;

    private const ulong KeysDomain = 1;
    private const ulong BlockDomain = 2;

    private readonly ulong _key0;
    private readonly ulong _key1;

    /// <summary>Creates a hasher with a 128-bit key.</summary>
    public BlockHasher(ulong key0, ulong key1)
    {
        _key0 = key0;
        _key1 = key1;
    }

    /// <summary>The hasher with the public default key.</summary>
    public static BlockHasher Default { get; } = new(DefaultKey0, DefaultKey1);

    /// <summary>Hashes a request's cache keys (once per request; the result enters every block hash).</summary>
    public BlockHash HashKeys(PrefixCacheKeys keys)
    {
        var sip = new SipHash128(_key0, _key1);
        sip.Append(KeysDomain);
        AppendString(ref sip, keys.CacheSalt);
        AppendString(ref sip, keys.ModelId);
        AppendString(ref sip, keys.ExtraKey);
        return sip.Finish();
    }

    /// <summary>Hashes one full block.</summary>
    /// <param name="parent">The previous block's hash, or <see cref="BlockHash.None"/> for the first block.</param>
    /// <param name="keysHash">The result of <see cref="HashKeys"/> for the request.</param>
    /// <param name="tokenIds">The block's token ids (BlockSize of them).</param>
    public BlockHash HashBlock(BlockHash parent, BlockHash keysHash, ReadOnlySpan<int> tokenIds)
    {
        var sip = new SipHash128(_key0, _key1);
        sip.Append(BlockDomain);
        sip.Append(parent.Lo);
        sip.Append(parent.Hi);
        sip.Append(keysHash.Lo);
        sip.Append(keysHash.Hi);
        sip.Append((ulong)tokenIds.Length);
        int i = 0;
        for (; i + 1 < tokenIds.Length; i += 2)
            sip.Append((uint)tokenIds[i] | ((ulong)(uint)tokenIds[i + 1] << 32));
        return i < tokenIds.Length ? sip.Finish((uint)tokenIds[i], 4) : sip.Finish();
    }

    /// <summary>Hashes the full blocks of a token sequence into <paramref name="destination"/>; returns how many were written.</summary>
    /// <param name="tokenIds">The sequence; a trailing partial block is ignored.</param>
    /// <param name="keys">The sequence's cache keys.</param>
    /// <param name="blockSize">Tokens per block.</param>
    /// <param name="destination">Receives at most its length of hashes.</param>
    public int HashBlocks(ReadOnlySpan<int> tokenIds, PrefixCacheKeys keys, int blockSize, Span<BlockHash> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        BlockHash keysHash = HashKeys(keys);
        int count = Math.Min(tokenIds.Length / blockSize, destination.Length);
        BlockHash parent = BlockHash.None;
        for (int i = 0; i < count; i++)
        {
            parent = HashBlock(parent, keysHash, tokenIds.Slice(i * blockSize, blockSize));
            destination[i] = parent;
        }
        return count;
    }

    private static void AppendString(ref SipHash128 sip, string? value)
    {
        ReadOnlySpan<char> chars = value;
        sip.Append((ulong)chars.Length);
        for (int i = 0; i < chars.Length; i += 4)
        {
            ulong word = 0;
            int n = Math.Min(4, chars.Length - i);
            for (int j = 0; j < n; j++)
                word |= (ulong)chars[i + j] << (16 * j);
            sip.Append(word);
        }
    }
}
