namespace Kvasir.Kernels.Quant;

/// <summary>
/// Turns floats into a row of a storage type, with ggml's reference (round-to-nearest) quantizers, so
/// that a file Kvasir writes is what llama.cpp's reference code would write. K-quant weights (Q4_K, Q5_K,
/// Q6_K) need llama.cpp's search-based quantizer and are not produced here.
/// </summary>
public static class Quantize
{
    /// <summary>Whether <see cref="Row(GgmlType, ReadOnlySpan{float}, Span{byte})"/> can produce <paramref name="type"/>.</summary>
    public static bool CanQuantize(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 or GgmlType.Q8_K;

    /// <summary>Quantizes <c>src.Length</c> elements into the first <see cref="QuantTraits.RowBytes"/> bytes of <paramref name="dst"/>.</summary>
    /// <param name="type">The target type (see <see cref="CanQuantize"/>).</param>
    /// <param name="src">The elements; the count must be a multiple of the type's block size.</param>
    /// <param name="dst">Receives the row; extra bytes are left untouched.</param>
    /// <exception cref="ArgumentException">The type cannot be produced, or a length does not fit.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst) => Row(type, src, dst, Simd.Best);

    internal static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst, SimdWidth width)
    {
        if (!CanQuantize(type))
        {
            throw new ArgumentException(
                $"Kvasir cannot quantize to {type}; it writes F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_K. " +
                "Use llama.cpp's llama-quantize for K-quants.", nameof(type));
        }

        long bytes = QuantTraits.RowBytes(type, src.Length);
        if (dst.Length < bytes)
        {
            throw new ArgumentException(
                $"{src.Length} elements of {type} take {bytes} bytes, but the destination holds only {dst.Length}.", nameof(dst));
        }

        switch (type)
        {
            case GgmlType.F32: RowF32.Quantize(src, dst); break;
            case GgmlType.F16: RowF16.Quantize(src, dst, width); break;
            case GgmlType.BF16: RowBF16.Quantize(src, dst); break;
            case GgmlType.Q4_0: BlockQ4_0.Quantize(src, dst); break;
            case GgmlType.Q4_1: BlockQ4_1.Quantize(src, dst); break;
            case GgmlType.Q5_0: BlockQ5_0.Quantize(src, dst); break;
            case GgmlType.Q5_1: BlockQ5_1.Quantize(src, dst); break;
            case GgmlType.Q8_0: BlockQ8_0.Quantize(src, dst, width); break;
            default: BlockQ8_K.Quantize(src, dst, width); break;
        }
    }
}
