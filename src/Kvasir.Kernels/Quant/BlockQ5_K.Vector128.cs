using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The Vector128 paths (SSE, NEON) of <see cref="BlockQ5_K"/>'s dequantize and float dot: as <see cref="BlockQ4_K"/>'s,
/// each chunk's 32 packed bytes and the 32 high-bit bytes as two Vector128s each, so each sub-block of 32 values is two
/// groups of 16 with the same scale and min.
/// </summary>
internal static partial class BlockQ5_K
{
    /// <summary>The Vector128 path of <see cref="Dequantize(ReadOnlySpan{byte}, Span{float}, SimdWidth)"/> (bit-exact with the reference).</summary>
    private static void Dequantize128(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float y = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            ref float yb = ref Unsafe.Add(ref y, b * BlockSize);
            float d = QuantSimd.ReadHalf(ref block);
            float dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 2));
            ref byte scales = ref Unsafe.Add(ref block, 4);
            var qh0 = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 16));
            var qh1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 32));
            for (int c = 0; c < 4; c++)
            {
                BlockQ4_K.ScaleMin(ref scales, 2 * c, out int sc0, out int m0);
                BlockQ4_K.ScaleMin(ref scales, (2 * c) + 1, out int sc1, out int m1);
                ref byte q = ref Unsafe.Add(ref block, 48 + (32 * c));
                Half128(ref q, ref qh0, out var low0, out var high0);
                Half128(ref Unsafe.Add(ref q, 16), ref qh1, out var low1, out var high1);
                ref float yc = ref Unsafe.Add(ref yb, 64 * c);
                QuantSimd.Store16(low0, d * sc0, -(dmin * m0), ref yc);
                QuantSimd.Store16(low1, d * sc0, -(dmin * m0), ref Unsafe.Add(ref yc, 16));
                QuantSimd.Store16(high0, d * sc1, -(dmin * m1), ref Unsafe.Add(ref yc, 32));
                QuantSimd.Store16(high1, d * sc1, -(dmin * m1), ref Unsafe.Add(ref yc, 48));
            }
        }
    }

    /// <summary>
    /// The Vector128 path of <see cref="Dot(ReadOnlySpan{byte}, ReadOnlySpan{float}, SimdWidth)"/>: per sub-block
    /// d·sc·Σ q·x and −dmin·m·Σ x as four partial sums each (<see cref="QuantSimd.DotAffine32"/>).
    /// </summary>
    private static float Dot128(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            ref float xb = ref Unsafe.Add(ref xr, b * BlockSize);
            float d = QuantSimd.ReadHalf(ref block);
            float dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 2));
            ref byte scales = ref Unsafe.Add(ref block, 4);
            var qh0 = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 16));
            var qh1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 32));
            for (int c = 0; c < 4; c++)
            {
                BlockQ4_K.ScaleMin(ref scales, 2 * c, out int sc0, out int m0);
                BlockQ4_K.ScaleMin(ref scales, (2 * c) + 1, out int sc1, out int m1);
                ref byte q = ref Unsafe.Add(ref block, 48 + (32 * c));
                Half128(ref q, ref qh0, out var low0, out var high0);
                Half128(ref Unsafe.Add(ref q, 16), ref qh1, out var low1, out var high1);
                ref float xc = ref Unsafe.Add(ref xb, 64 * c);
                acc = QuantSimd.DotAffine32(low0, low1, d * sc0, -(dmin * m0), ref xc, acc);
                acc = QuantSimd.DotAffine32(high0, high1, d * sc1, -(dmin * m1), ref Unsafe.Add(ref xc, 32), acc);
            }
        }

        return Vector128.Sum(acc);
    }

    /// <summary>
    /// Half a chunk (16 packed bytes at <paramref name="q"/>, positions l to l + 15 of both its sub-blocks) as 5-bit
    /// values: <paramref name="low"/> of sub-block 2c, <paramref name="high"/> of 2c + 1. <paramref name="qh"/> holds the
    /// same positions' high-bit bytes and is consumed two bits per chunk (shifted right by 2 for the next chunk), as on
    /// Vector256, rather than shifted by 2c each time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Half128(ref byte q, ref Vector128<byte> qh, out Vector128<sbyte> low, out Vector128<sbyte> high)
    {
        var packed = Vector128.LoadUnsafe(ref q);
        var one = Vector128.Create((byte)1);
        low = ((packed & Vector128.Create((byte)0x0F)) | ((qh & one) << 4)).AsSByte();
        high = ((packed >>> 4) | (((qh >>> 1) & one) << 4)).AsSByte();
        qh >>>= 2;
    }
}
