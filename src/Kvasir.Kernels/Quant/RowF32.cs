using System.Runtime.InteropServices;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml type F32: IEEE single precision, little-endian, 4 bytes per element, no blocks.
/// </summary>
internal static class RowF32
{
    /// <summary>Copies the row's floats (the reference and the fast path are the same copy).</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) =>
        MemoryMarshal.Cast<byte, float>(src)[..dst.Length].CopyTo(dst);

    /// <summary>Copies floats into the row's bytes.</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) =>
        MemoryMarshal.AsBytes(src).CopyTo(dst);

    /// <summary>Scalar reference dot product.</summary>
    public static float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        var w = MemoryMarshal.Cast<byte, float>(row);
        float sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += w[i] * x[i];
        }

        return sum;
    }

    /// <summary>Dot product on the widest allowed vectors (see <see cref="Ops.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>).</summary>
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width) =>
        Ops.Dot(MemoryMarshal.Cast<byte, float>(row)[..x.Length], x, width);
}
