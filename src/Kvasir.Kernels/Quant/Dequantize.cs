namespace Kvasir.Kernels.Quant;

/// <summary>Turns a row of any supported type into floats.</summary>
public static class Dequantize
{
    /// <summary>
    /// Dequantizes the first <c>dst.Length</c> elements stored in <paramref name="src"/>.
    /// </summary>
    /// <param name="type">The row's element type.</param>
    /// <param name="src">The row's bytes: at least <see cref="QuantTraits.RowBytes"/>(type, dst.Length); extra bytes are ignored.</param>
    /// <param name="dst">Receives the elements; its length must be a multiple of the type's block size.</param>
    /// <exception cref="ArgumentException">The type is unsupported, or a length does not fit.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst) => Row(type, src, dst, Simd.Best);

    internal static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
    {
        long bytes = QuantTraits.RowBytes(type, dst.Length);
        if (src.Length < bytes)
        {
            throw new ArgumentException(
                $"{dst.Length} elements of {type} take {bytes} bytes, but the source holds only {src.Length}.", nameof(src));
        }

        RowUnchecked(type, src, dst, width);
    }

    /// <summary>The per-type dispatch, lengths already validated.</summary>
    internal static void RowUnchecked(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
    {
        switch (type)
        {
            case GgmlType.F32: RowF32.Dequantize(src, dst); break;
            case GgmlType.F16: RowF16.Dequantize(src, dst, width); break;
            case GgmlType.BF16: RowBF16.Dequantize(src, dst, width); break;
            case GgmlType.Q4_0: BlockQ4_0.Dequantize(src, dst, width); break;
            case GgmlType.Q4_1: BlockQ4_1.Dequantize(src, dst, width); break;
            case GgmlType.Q5_0: BlockQ5_0.Dequantize(src, dst, width); break;
            case GgmlType.Q5_1: BlockQ5_1.Dequantize(src, dst, width); break;
            case GgmlType.Q8_0: BlockQ8_0.Dequantize(src, dst, width); break;
            case GgmlType.Q2_K: BlockQ2_K.Dequantize(src, dst, width); break;
            case GgmlType.Q3_K: BlockQ3_K.Dequantize(src, dst, width); break;
            case GgmlType.Q4_K: BlockQ4_K.Dequantize(src, dst, width); break;
            case GgmlType.Q5_K: BlockQ5_K.Dequantize(src, dst, width); break;
            case GgmlType.Q6_K: BlockQ6_K.Dequantize(src, dst, width); break;
            case GgmlType.Q8_K: BlockQ8_K.Dequantize(src, dst, width); break;
            case GgmlType.IQ4_NL: BlockIQ4_NL.Dequantize(src, dst, width); break;
            case GgmlType.IQ4_XS: BlockIQ4_XS.Dequantize(src, dst, width); break;
            default: throw QuantTraits.Unsupported(type, nameof(type));
        }
    }
}
