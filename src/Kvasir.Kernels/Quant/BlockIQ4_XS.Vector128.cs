using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The Vector128 paths (SSE, NEON) of <see cref="BlockIQ4_XS"/>'s dequantize and float dot: each sub-block of 32 is
/// two Vector128s of 16 levels (its low and high nibbles), looked up by a portable byte shuffle.
/// </summary>
internal static partial class BlockIQ4_XS
{
    /// <summary>The Vector128 path of <see cref="Dequantize(ReadOnlySpan{byte}, Span{float}, SimdWidth)"/> (bit-exact with the reference).</summary>
    private static void Dequantize128(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float y = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            float d = QuantSimd.ReadHalf(ref block);
            for (int sub = 0; sub < 8; sub++)
            {
                ref float ys = ref Unsafe.Add(ref y, (b * BlockSize) + (32 * sub));
                Levels128(ref block, sub, out var low, out var high);
                float dl = d * Scale(ref block, sub);
                QuantSimd.Store16(low, dl, ref ys);
                QuantSimd.Store16(high, dl, ref Unsafe.Add(ref ys, 16));
            }
        }
    }

    /// <summary>The Vector128 path of <see cref="Dot(ReadOnlySpan{byte}, ReadOnlySpan{float}, SimdWidth)"/>: per sub-block Σ level·x as four partial sums, then one fused multiply-add by d·(ls − 32).</summary>
    private static float Dot128(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            float d = QuantSimd.ReadHalf(ref block);
            for (int sub = 0; sub < 8; sub++)
            {
                ref float xs = ref Unsafe.Add(ref xr, (b * BlockSize) + (32 * sub));
                Levels128(ref block, sub, out var low, out var high);
                var partial = QuantSimd.Dot16(low, ref xs) + QuantSimd.Dot16(high, ref Unsafe.Add(ref xs, 16));
                acc = Simd.MulAdd(partial, Vector128.Create(d * Scale(ref block, sub)), acc);
            }
        }

        return Vector128.Sum(acc);
    }

    /// <summary>Sub-block <paramref name="sub"/>'s levels: elements 0–15 (low nibbles) and 16–31 (high nibbles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Levels128(ref byte block, int sub, out Vector128<sbyte> low, out Vector128<sbyte> high)
    {
        var bytes = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 8 + (16 * sub)));
        var table = BlockIQ4_NL.LevelTable;
        low = Vector128.Shuffle(table, (bytes & Vector128.Create((byte)0x0F)).AsSByte());
        high = Vector128.Shuffle(table, (bytes >>> 4).AsSByte());
    }
}
