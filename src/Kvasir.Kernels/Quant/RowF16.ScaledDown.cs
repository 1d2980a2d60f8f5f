using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// Halves widened to w · 2^-112 for the GEMM's Vector512 tiles, whose packed tokens then carry 2^112
/// (<see cref="TryPrescale"/>): each product (x · 2^112) · (w · 2^-112) is x · w exactly, so the results are the same
/// bits as with w and x, and the widening is a sign-extending load, a shift and a mask per 16 halves — no multiply, no
/// separate sign — against <see cref="TryWidenFinite"/>'s eight instructions.
/// </summary>
/// <remarks>
/// A half's magnitude bits shifted left by 13 are a float of value |w| · 2^-112: a normal half (exponent e, 1 ≤ e ≤ 30)
/// becomes a normal float with the same mantissa and exponent e − 15 − 112; a subnormal half m · 2^-24 becomes the
/// subnormal float m · 2^-136 (whole multiples of the float's 2^-149). Infinities and NaN do not survive the shift (they
/// would become finite floats), so a row holding one takes the exact widening and is then scaled by 2^-112, which is
/// exact for every half (the smallest normal half lands on the smallest normal float, subnormals on whole multiples of
/// 2^-149) and keeps infinities and NaN.
/// </remarks>
internal static partial class RowF16
{
    /// <summary>2^-112, the scale of <see cref="WidenScaledDown"/>'s floats.</summary>
    private static readonly float ScaledDownFactor = BitConverter.UInt32BitsToSingle(0x07800000);

    /// <summary>dst[i] = w[i] · 2^-112 exactly for <paramref name="count"/> halves (any count; infinities and NaN kept).</summary>
    public static unsafe void WidenScaledDown(ushort* src, float* dst, int count, SimdWidth width)
    {
        if (!TryWidenScaledDown(src, dst, count, width))
        {
            Dequantize(new ReadOnlySpan<byte>(src, count * sizeof(ushort)), new Span<float>(dst, count), width);
            for (int i = 0; i < count; i++)
            {
                dst[i] *= ScaledDownFactor;
            }
        }
    }

    /// <summary>The finite-only form of <see cref="WidenScaledDown"/>: false (dst undefined) where an infinity or NaN is among the halves.</summary>
    public static unsafe bool TryWidenScaledDown(ushort* src, float* dst, int count, SimdWidth width)
    {
        const int magnitudeMask = 0x7FFF;
        const ushort largestFinite = 0x7BFF;
        var bitsMask = Vector512.Create(unchecked((int)0x8FFFE000));
        var largest = Vector512<ushort>.Zero;
        int i = 0;
        if (width >= SimdWidth.V512)
        {
            for (; i + 32 <= count; i += 32)
            {
                var h = Vector512.Load((short*)src + i);
                largest = Vector512.Max(largest, h.AsUInt16() & Vector512.Create((ushort)magnitudeMask));
                ((Vector512.WidenLower(h) << 13) & bitsMask).AsSingle().Store(dst + i);
                ((Vector512.WidenUpper(h) << 13) & bitsMask).AsSingle().Store(dst + i + 16);
            }
        }

        bool finite = Vector512.LessThanOrEqualAll(largest, Vector512.Create(largestFinite));
        for (; i < count; i++)
        {
            short h = (short)src[i];
            finite &= (h & magnitudeMask) <= largestFinite;
            dst[i] = BitConverter.Int32BitsToSingle((h << 13) & unchecked((int)0x8FFFE000));
        }

        return finite;
    }
}
