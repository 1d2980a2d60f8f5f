using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The Vector128 paths (SSE, NEON) of <see cref="BlockQ3_K"/>'s dequantize and float dot: a sub-block is 16 values, so
/// every Vector128 of values has a single scale.
/// </summary>
internal static partial class BlockQ3_K
{
    /// <summary>The Vector128 path of <see cref="Dequantize(ReadOnlySpan{byte}, Span{float}, SimdWidth)"/> (bit-exact with the reference).</summary>
    private static void Dequantize128(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Span<sbyte> sc = stackalloc sbyte[16];
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float y = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            Scales(ref block).StoreUnsafe(ref MemoryMarshal.GetReference(sc));
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 108));
            for (int sub = 0; sub < 16; sub++)
            {
                QuantSimd.Store16(SubBlock128(ref block, sub), d * sc[sub], ref Unsafe.Add(ref y, (b * BlockSize) + (16 * sub)));
            }
        }
    }

    /// <summary>The Vector128 path of <see cref="Dot(ReadOnlySpan{byte}, ReadOnlySpan{float}, SimdWidth)"/>: per sub-block Σ q·x as four partial sums, then one fused multiply-add by d·sc.</summary>
    private static float Dot128(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        Span<sbyte> sc = stackalloc sbyte[16];
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            Scales(ref block).StoreUnsafe(ref MemoryMarshal.GetReference(sc));
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 108));
            for (int sub = 0; sub < 16; sub++)
            {
                var dot = QuantSimd.Dot16(SubBlock128(ref block, sub), ref Unsafe.Add(ref xr, (b * BlockSize) + (16 * sub)));
                acc = Simd.MulAdd(dot, Vector128.Create(d * sc[sub]), acc);
            }
        }

        return Vector128.Sum(acc);
    }

    /// <summary>
    /// The 16 signed values (−4..3) of sub-block <paramref name="sub"/> = 8n + 2j + k: positions 16k .. 16k + 15 of
    /// group j of half n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> SubBlock128(ref byte block, int sub)
    {
        int n = sub / 8;
        int j = (sub % 8) / 2;
        int k = sub % 2;
        var low = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 32 + (32 * n) + (16 * k)));
        var hmask = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 16 * k));
        var lowBits = (low >>> (2 * j)) & Vector128.Create((byte)3);
        var highBit = ((hmask >>> ((4 * n) + j)) & Vector128<byte>.One) << 2;
        return ((lowBits | highBit) - Vector128.Create((byte)4)).AsSByte();
    }
}
