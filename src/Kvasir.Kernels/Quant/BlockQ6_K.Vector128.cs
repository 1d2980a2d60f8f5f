using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The Vector128 paths (SSE, NEON) of <see cref="BlockQ6_K"/>'s dequantize and float dot: each group of 32 values is two
/// Vector128s of 16, and a sub-block is 16 values, so every Vector128 has a single scale.
/// </summary>
internal static partial class BlockQ6_K
{
    /// <summary>The Vector128 path of <see cref="Dequantize(ReadOnlySpan{byte}, Span{float}, SimdWidth)"/> (bit-exact with the reference).</summary>
    private static void Dequantize128(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float y = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 208));
            for (int h = 0; h < 2; h++)
            {
                ref sbyte sc = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref block, 192 + (8 * h)));
                for (int k = 0; k < 2; k++)
                {
                    // Positions l = 16k .. 16k + 15 of the half's four groups: sub-blocks k, k + 2, k + 4, k + 6.
                    ref float yk = ref Unsafe.Add(ref y, (b * BlockSize) + (128 * h) + (16 * k));
                    Unpack128(ref block, h, k, out var q1, out var q2, out var q3, out var q4);
                    QuantSimd.Store16(q1, d * Unsafe.Add(ref sc, k), ref yk);
                    QuantSimd.Store16(q2, d * Unsafe.Add(ref sc, k + 2), ref Unsafe.Add(ref yk, 32));
                    QuantSimd.Store16(q3, d * Unsafe.Add(ref sc, k + 4), ref Unsafe.Add(ref yk, 64));
                    QuantSimd.Store16(q4, d * Unsafe.Add(ref sc, k + 6), ref Unsafe.Add(ref yk, 96));
                }
            }
        }
    }

    /// <summary>
    /// The Vector128 path of <see cref="Dot(ReadOnlySpan{byte}, ReadOnlySpan{float}, SimdWidth)"/>: per sub-block
    /// Σ (q − 32)·x as four partial sums, then one fused multiply-add by d·sc.
    /// </summary>
    private static float Dot128(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 208));
            for (int h = 0; h < 2; h++)
            {
                ref sbyte sc = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref block, 192 + (8 * h)));
                for (int k = 0; k < 2; k++)
                {
                    ref float xk = ref Unsafe.Add(ref xr, (b * BlockSize) + (128 * h) + (16 * k));
                    Unpack128(ref block, h, k, out var q1, out var q2, out var q3, out var q4);
                    acc = Simd.MulAdd(QuantSimd.Dot16(q1, ref xk), Vector128.Create(d * Unsafe.Add(ref sc, k)), acc);
                    acc = Simd.MulAdd(QuantSimd.Dot16(q2, ref Unsafe.Add(ref xk, 32)), Vector128.Create(d * Unsafe.Add(ref sc, k + 2)), acc);
                    acc = Simd.MulAdd(QuantSimd.Dot16(q3, ref Unsafe.Add(ref xk, 64)), Vector128.Create(d * Unsafe.Add(ref sc, k + 4)), acc);
                    acc = Simd.MulAdd(QuantSimd.Dot16(q4, ref Unsafe.Add(ref xk, 96)), Vector128.Create(d * Unsafe.Add(ref sc, k + 6)), acc);
                }
            }
        }

        return Vector128.Sum(acc);
    }

    /// <summary>
    /// Positions l = 16k .. 16k + 15 (<paramref name="k"/> = 0, 1) of the four groups of 32 signed values (q − 32) of
    /// half <paramref name="h"/>: elements 128h + 16k + l' + 0, 32, 64 and 96 (l' = 0..15).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack128(
        ref byte block, int h, int k, out Vector128<sbyte> q1, out Vector128<sbyte> q2, out Vector128<sbyte> q3, out Vector128<sbyte> q4)
    {
        var low0 = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, (64 * h) + (16 * k)));
        var low1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, (64 * h) + 32 + (16 * k)));
        var high = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 128 + (32 * h) + (16 * k)));
        var nibble = Vector128.Create((byte)0x0F);
        var two = Vector128.Create((byte)3);
        var bias = Vector128.Create((byte)32);
        q1 = (((low0 & nibble) | ((high & two) << 4)) - bias).AsSByte();
        q2 = (((low1 & nibble) | (((high >>> 2) & two) << 4)) - bias).AsSByte();
        q3 = (((low0 >>> 4) | (((high >>> 4) & two) << 4)) - bias).AsSByte();
        q4 = (((low1 >>> 4) | ((high >>> 6) << 4)) - bias).AsSByte();
    }
}
