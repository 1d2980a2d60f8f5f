using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml type BF16 (bfloat16): the upper 16 bits of an IEEE float, little-endian, 2 bytes per element,
/// no blocks. Widening is exact (<c>bits &lt;&lt; 16</c>); narrowing rounds to nearest even and turns
/// NaN into a quiet NaN, as ggml's <c>fp32_to_bf16</c> does.
/// </summary>
internal static class RowBF16
{
    /// <summary>Scalar reference widening.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(src);
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = ToSingle(bits[i]);
        }
    }

    /// <summary>Widens to floats on the widest allowed vectors.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
    {
        int n = dst.Length;
        ref ushort s = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(src));
        ref float d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                var h = Vector256.LoadUnsafe(ref s, (nuint)i);
                (Vector256.WidenLower(h) << 16).AsSingle().StoreUnsafe(ref d, (nuint)i);
                (Vector256.WidenUpper(h) << 16).AsSingle().StoreUnsafe(ref d, (nuint)(i + 8));
            }
        }

        if (width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                var h = Vector128.LoadUnsafe(ref s, (nuint)i);
                (Vector128.WidenLower(h) << 16).AsSingle().StoreUnsafe(ref d, (nuint)i);
                (Vector128.WidenUpper(h) << 16).AsSingle().StoreUnsafe(ref d, (nuint)(i + 4));
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) = ToSingle(Unsafe.Add(ref s, i));
        }
    }

    /// <summary>Rounds each float to bfloat16 (scalar; quantizing is not on a hot path).</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(dst);
        for (int i = 0; i < src.Length; i++)
        {
            bits[i] = FromSingle(src[i]);
        }
    }

    /// <summary>Scalar reference dot product.</summary>
    public static float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(row);
        float sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += ToSingle(bits[i]) * x[i];
        }

        return sum;
    }

    /// <summary>Dot product on the widest allowed vectors.</summary>
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width)
    {
        int n = x.Length;
        ref ushort w = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(row));
        ref float xr = ref MemoryMarshal.GetReference(x);
        int i = 0;
        float sum = 0;
        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                Simd.PrefetchAhead(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref w, i)), 16 * sizeof(ushort));
                var h = Vector256.LoadUnsafe(ref w, (nuint)i);
                acc0 = Simd.MulAdd((Vector256.WidenLower(h) << 16).AsSingle(), Vector256.LoadUnsafe(ref xr, (nuint)i), acc0);
                acc1 = Simd.MulAdd((Vector256.WidenUpper(h) << 16).AsSingle(), Vector256.LoadUnsafe(ref xr, (nuint)(i + 8)), acc1);
            }

            sum += Vector256.Sum(acc0 + acc1);
        }

        if (width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated && n - i >= 8)
        {
            var acc0 = Vector128<float>.Zero;
            var acc1 = Vector128<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var h = Vector128.LoadUnsafe(ref w, (nuint)i);
                acc0 = Simd.MulAdd((Vector128.WidenLower(h) << 16).AsSingle(), Vector128.LoadUnsafe(ref xr, (nuint)i), acc0);
                acc1 = Simd.MulAdd((Vector128.WidenUpper(h) << 16).AsSingle(), Vector128.LoadUnsafe(ref xr, (nuint)(i + 4)), acc1);
            }

            sum += Vector128.Sum(acc0 + acc1);
        }

        for (; i < n; i++)
        {
            sum += ToSingle(Unsafe.Add(ref w, i)) * Unsafe.Add(ref xr, i);
        }

        return sum;
    }

    /// <summary>Widens one bfloat16 to float (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Rounds a float to bfloat16: nearest, ties to even; NaN becomes a quiet NaN.</summary>
    public static ushort FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFFFFFF) > 0x7F800000)
        {
            return (ushort)((u >> 16) | 0x40);
        }

        return (ushort)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
    }
}
