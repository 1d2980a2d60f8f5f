using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The Vector128 paths (SSE, NEON) of <see cref="BlockQ4_K"/>'s dequantize and float dot, shared with Q5_K: each chunk's
/// values as four Vector128s, so each sub-block of 32 values is two groups of 16 with the same scale and min.
/// </summary>
internal static partial class BlockQ4_K
{
    /// <summary>
    /// How a format with Q4_K's super-block head (fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins: Q4_K, Q5_K)
    /// gives the shared Vector128 loops (<see cref="DequantizeK128{TChunks}"/>, <see cref="DotK128{TChunks}"/>) each
    /// chunk's 64 values. A value of the type lives for one super-block: <see cref="Start"/>, then
    /// <see cref="Chunk"/> for c = 0, 1, 2, 3 in that order.
    /// </summary>
    internal interface IKChunks128
    {
        /// <summary>Bytes per super-block.</summary>
        static abstract int BlockBytes { get; }

        /// <summary>Reads what the super-block's chunks share (Q5_K: its high bits).</summary>
        void Start(ref byte block);

        /// <summary>
        /// Chunk c's values: sub-block 2c as <paramref name="low0"/> (elements 0–15) and <paramref name="low1"/>
        /// (16–31), sub-block 2c + 1 as <paramref name="high0"/> and <paramref name="high1"/>.
        /// </summary>
        void Chunk(ref byte block, int c, out Vector128<sbyte> low0, out Vector128<sbyte> low1, out Vector128<sbyte> high0, out Vector128<sbyte> high1);
    }

    /// <summary>The Vector128 path of a Q4_K-family dequantize: <c>d·sc·q − dmin·m</c> per sub-block (bit-exact with the reference).</summary>
    internal static void DequantizeK128<TChunks>(ReadOnlySpan<byte> src, Span<float> dst)
        where TChunks : struct, IKChunks128
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float y = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * TChunks.BlockBytes);
            ref float yb = ref Unsafe.Add(ref y, b * BlockSize);
            float d = QuantSimd.ReadHalf(ref block);
            float dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 2));
            ref byte scales = ref Unsafe.Add(ref block, 4);
            var chunks = default(TChunks);
            chunks.Start(ref block);
            for (int c = 0; c < 4; c++)
            {
                ScaleMin(ref scales, 2 * c, out int sc0, out int m0);
                ScaleMin(ref scales, (2 * c) + 1, out int sc1, out int m1);
                chunks.Chunk(ref block, c, out var low0, out var low1, out var high0, out var high1);
                ref float yc = ref Unsafe.Add(ref yb, 64 * c);
                QuantSimd.Store16(low0, d * sc0, -(dmin * m0), ref yc);
                QuantSimd.Store16(low1, d * sc0, -(dmin * m0), ref Unsafe.Add(ref yc, 16));
                QuantSimd.Store16(high0, d * sc1, -(dmin * m1), ref Unsafe.Add(ref yc, 32));
                QuantSimd.Store16(high1, d * sc1, -(dmin * m1), ref Unsafe.Add(ref yc, 48));
            }
        }
    }

    /// <summary>
    /// The Vector128 path of a Q4_K-family float dot: per sub-block d·sc·Σ q·x and −dmin·m·Σ x as four partial sums
    /// each (<see cref="QuantSimd.DotAffine32"/>).
    /// </summary>
    internal static float DotK128<TChunks>(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
        where TChunks : struct, IKChunks128
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * TChunks.BlockBytes);
            ref float xb = ref Unsafe.Add(ref xr, b * BlockSize);
            float d = QuantSimd.ReadHalf(ref block);
            float dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 2));
            ref byte scales = ref Unsafe.Add(ref block, 4);
            var chunks = default(TChunks);
            chunks.Start(ref block);
            for (int c = 0; c < 4; c++)
            {
                ScaleMin(ref scales, 2 * c, out int sc0, out int m0);
                ScaleMin(ref scales, (2 * c) + 1, out int sc1, out int m1);
                chunks.Chunk(ref block, c, out var low0, out var low1, out var high0, out var high1);
                ref float xc = ref Unsafe.Add(ref xb, 64 * c);
                acc = QuantSimd.DotAffine32(low0, low1, d * sc0, -(dmin * m0), ref xc, acc);
                acc = QuantSimd.DotAffine32(high0, high1, d * sc1, -(dmin * m1), ref Unsafe.Add(ref xc, 32), acc);
            }
        }

        return Vector128.Sum(acc);
    }

    /// <summary>Q4_K's chunks for the shared loops: 32 packed bytes per chunk, nothing shared across chunks.</summary>
    private struct Chunks128 : IKChunks128
    {
        public static int BlockBytes => BlockQ4_K.BlockBytes;

        public readonly void Start(ref byte block)
        {
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Chunk(ref byte block, int c, out Vector128<sbyte> low0, out Vector128<sbyte> low1, out Vector128<sbyte> high0, out Vector128<sbyte> high1) =>
            Chunk128(ref Unsafe.Add(ref block, 16 + (32 * c)), out low0, out low1, out high0, out high1);
    }

    /// <summary>
    /// A chunk's 64 4-bit values from its 32 packed bytes at <paramref name="q"/>: sub-block 2c (low nibbles) as
    /// <paramref name="low0"/> (elements 0–15) and <paramref name="low1"/> (16–31), sub-block 2c + 1 (high nibbles) as
    /// <paramref name="high0"/> and <paramref name="high1"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chunk128(
        ref byte q, out Vector128<sbyte> low0, out Vector128<sbyte> low1, out Vector128<sbyte> high0, out Vector128<sbyte> high1)
    {
        var packed0 = Vector128.LoadUnsafe(ref q);
        var packed1 = Vector128.LoadUnsafe(ref q, 16);
        var nibble = Vector128.Create((byte)0x0F);
        low0 = (packed0 & nibble).AsSByte();
        low1 = (packed1 & nibble).AsSByte();
        high0 = (packed0 >>> 4).AsSByte();
        high1 = (packed1 >>> 4).AsSByte();
    }
}
