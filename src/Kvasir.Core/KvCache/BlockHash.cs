namespace Kvasir.Core.KvCache;

/// <summary>
/// The 128-bit chained hash of a full KV block: a keyed SipHash-2-4-128 of its parent's hash, the request's
/// cache keys and the block's token ids (see <see cref="BlockHasher"/>). Equal hashes are taken to mean
/// equal KV: with 128 bits a random collision among even 2^32 cached blocks has probability about 2^-65.
/// </summary>
/// <param name="Lo">Low 64 bits (the first eight bytes of SipHash's output, little-endian).</param>
/// <param name="Hi">High 64 bits.</param>
public readonly record struct BlockHash(ulong Lo, ulong Hi)
{
    /// <summary>The parent hash of a sequence's first block.</summary>
    public static BlockHash None => default;

    /// <inheritdoc />
    public override int GetHashCode() => (int)Lo ^ (int)(Lo >> 32);

    /// <summary>32 hex digits, high half first.</summary>
    public override string ToString() => $"{Hi:x16}{Lo:x16}";
}
