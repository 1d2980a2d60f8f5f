using System.Buffers.Binary;
using System.Numerics;

namespace Kvasir.Core.KvCache;

/// <summary>
/// SipHash-2-4 with 128-bit output (Aumasson and Bernstein), fed 64-bit little-endian words. Written here
/// so that hashes are identical in every process and on every .NET version (System.HashCode is randomised
/// per process) and keyed, so that a deployment with a secret key is safe from crafted collisions.
/// </summary>
internal struct SipHash128
{
    private ulong _v0;
    private ulong _v1;
    private ulong _v2;
    private ulong _v3;
    private int _length; // bytes absorbed so far

    public SipHash128(ulong key0, ulong key1)
    {
        _v0 = key0 ^ 0x736F6D6570736575UL;
        _v1 = key1 ^ 0x646F72616E646F6DUL ^ 0xEE; // 0xEE: the 128-bit output variant
        _v2 = key0 ^ 0x6C7967656E657261UL;
        _v3 = key1 ^ 0x7465646279746573UL;
        _length = 0;
    }

    /// <summary>Absorbs eight message bytes, given as one little-endian word.</summary>
    public void Append(ulong word)
    {
        _v3 ^= word;
        Round();
        Round();
        _v0 ^= word;
        _length += 8;
    }

    /// <summary>Absorbs the last 0..7 bytes (<paramref name="tailBytes"/> of them, little-endian in <paramref name="tail"/>) and returns the hash.</summary>
    public BlockHash Finish(ulong tail = 0, int tailBytes = 0)
    {
        ulong b = ((ulong)(uint)(_length + tailBytes) << 56) | tail;
        _v3 ^= b;
        Round();
        Round();
        _v0 ^= b;
        _v2 ^= 0xEE;
        Round();
        Round();
        Round();
        Round();
        ulong lo = _v0 ^ _v1 ^ _v2 ^ _v3;
        _v1 ^= 0xDD;
        Round();
        Round();
        Round();
        Round();
        ulong hi = _v0 ^ _v1 ^ _v2 ^ _v3;
        return new BlockHash(lo, hi);
    }

    /// <summary>The reference byte-string interface (for the published test vectors).</summary>
    public static BlockHash HashBytes(ReadOnlySpan<byte> data, ulong key0, ulong key1)
    {
        var sip = new SipHash128(key0, key1);
        int full = data.Length & ~7;
        for (int i = 0; i < full; i += 8)
            sip.Append(BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        ulong tail = 0;
        for (int i = data.Length - 1; i >= full; i--)
            tail = (tail << 8) | data[i];
        return sip.Finish(tail, data.Length - full);
    }

    private void Round()
    {
        _v0 += _v1;
        _v1 = BitOperations.RotateLeft(_v1, 13);
        _v1 ^= _v0;
        _v0 = BitOperations.RotateLeft(_v0, 32);
        _v2 += _v3;
        _v3 = BitOperations.RotateLeft(_v3, 16);
        _v3 ^= _v2;
        _v0 += _v3;
        _v3 = BitOperations.RotateLeft(_v3, 21);
        _v3 ^= _v0;
        _v2 += _v1;
        _v1 = BitOperations.RotateLeft(_v1, 17);
        _v1 ^= _v2;
        _v2 = BitOperations.RotateLeft(_v2, 32);
    }
}
