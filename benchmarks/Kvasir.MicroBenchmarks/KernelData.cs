using Kvasir.Kernels.Quant;

namespace Kvasir.MicroBenchmarks;

/// <summary>Deterministic inputs for the benchmarks.</summary>
internal static class KernelData
{
    public static float[] Floats(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (var i = 0; i < count; i++)
        {
            x[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return x;
    }

    /// <summary>
    /// A [rows, cols] matrix of <paramref name="type"/>: quantized from random floats where Kvasir has a quantizer,
    /// otherwise random block bytes whose fp16 fields are replaced by small normal halves (speed does not depend
    /// on the values, but NaN or subnormal scales could).
    /// </summary>
    public static byte[] Matrix(GgmlType type, int rows, int cols, int seed)
    {
        var rowBytes = (int)QuantTraits.RowBytes(type, cols);
        var bytes = new byte[rows * rowBytes];
        if (Quantize.CanQuantize(type))
        {
            var row = Floats(cols, seed);
            for (var r = 0; r < rows; r++)
            {
                row[r % cols] += 0.25f;
                Quantize.Row(type, row, bytes.AsSpan(r * rowBytes, rowBytes));
            }

            return bytes;
        }

        new Random(seed).NextBytes(bytes);
        var half = BitConverter.HalfToUInt16Bits((Half)0.01f);
        var traits = QuantTraits.Get(type);
        var (dOffset, halves) = type switch
        {
            GgmlType.Q4_K or GgmlType.Q5_K => (0, 2),   // d, dmin first
            GgmlType.Q6_K or GgmlType.Q3_K => (traits.BlockBytes - 2, 1), // d last
            GgmlType.Q2_K => (traits.BlockBytes - 4, 2), // d, dmin last
            GgmlType.IQ4_NL or GgmlType.IQ4_XS => (0, 1), // d first
            _ => (0, 0),
        };
        for (var b = 0; b + traits.BlockBytes <= bytes.Length; b += traits.BlockBytes)
        {
            for (var h = 0; h < halves; h++)
            {
                BitConverter.TryWriteBytes(bytes.AsSpan(b + dOffset + (2 * h), 2), half);
            }
        }

        return bytes;
    }
}
