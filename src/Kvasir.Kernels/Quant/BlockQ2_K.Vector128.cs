using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The Vector128 paths (SSE, NEON) of <see cref="BlockQ2_K"/>'s dequantize and float dot: a sub-block is 16 values, so
/// every Vector128 of values has a single scale and min.
/// </summary>
internal static partial class BlockQ2_K
{
    /// <summary>The Vector128 path of <see cref="Dequantize(ReadOnlySpan{byte}, Span{float}, SimdWidth)"/> (bit-exact with the reference).</summary>
    private static void Dequantize128(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float y = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 80));
            float dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 82));
            for (int sub = 0; sub < 16; sub++)
            {
                int sc = Unsafe.Add(ref block, sub);
                QuantSimd.Store16(SubBlock128(ref block, sub), d * (sc & 0x0F), -(dmin * (sc >> 4)), ref Unsafe.Add(ref y, (b * BlockSize) + (16 * sub)));
            }
        }
    }

    /// <summary>The Vector128 path of <see cref="Dot(ReadOnlySpan{byte}, ReadOnlySpan{float}, SimdWidth)"/>: per sub-block d·sc·Σ q·x − dmin·m·Σ x.</summary>
    private static float Dot128(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 80));
            float dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 82));
            for (int sub = 0; sub < 16; sub++)
            {
                int sc = Unsafe.Add(ref block, sub);
                ref float xs = ref Unsafe.Add(ref xr, (b * BlockSize) + (16 * sub));
                acc = Simd.MulAdd(QuantSimd.Dot16(SubBlock128(ref block, sub), ref xs), Vector128.Create(d * (sc & 0x0F)), acc);
                acc = Simd.MulAdd(QuantSimd.Sum16(ref xs), Vector128.Create(-(dmin * (sc >> 4))), acc);
            }
        }

        return Vector128.Sum(acc);
    }

    /// <summary>
    /// The 16 values (0..3) of sub-block <paramref name="sub"/> = 8n + 2j + k: positions 16k .. 16k + 15 of group j of
    /// half n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> SubBlock128(ref byte block, int sub)
    {
        int n = sub / 8;
        int j = (sub % 8) / 2;
        int k = sub % 2;
        var packed = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 16 + (32 * n) + (16 * k)));
        return ((packed >>> (2 * j)) & Vector128.Create((byte)3)).AsSByte();
    }
}
