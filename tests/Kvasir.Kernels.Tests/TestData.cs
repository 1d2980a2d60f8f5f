using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests;

/// <summary>Deterministic test inputs and comparison helpers.</summary>
internal static class TestData
{
    /// <summary>Every weight type the kernels support.</summary>
    public static readonly GgmlType[] SupportedTypes =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
        GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K,
        GgmlType.IQ4_NL, GgmlType.IQ4_XS,
    ];

    /// <summary>The SIMD widths this machine can run, scalar included.</summary>
    public static IEnumerable<SimdWidth> Widths()
    {
        foreach (var width in new[] { SimdWidth.Scalar, SimdWidth.V128, SimdWidth.V256, SimdWidth.V512 })
        {
            if (Simd.IsSupported(width))
            {
                yield return width;
            }
        }
    }

    /// <summary>The runnable widths as ints (test methods are public; <see cref="SimdWidth"/> is internal).</summary>
    public static TheoryData<int> WidthData()
    {
        var data = new TheoryData<int>();
        foreach (var width in Widths())
        {
            data.Add((int)width);
        }

        return data;
    }

    public static TheoryData<GgmlType> TypeData()
    {
        var data = new TheoryData<GgmlType>();
        foreach (var type in SupportedTypes)
        {
            data.Add(type);
        }

        return data;
    }

    /// <summary>Uniform floats in [-scale, scale).</summary>
    public static float[] Floats(Random rng, int count, float scale = 1.0f)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = ((float)rng.NextDouble() * 2 - 1) * scale;
        }

        return values;
    }

    /// <summary>
    /// A random row of <paramref name="elements"/> elements: random bytes for the quantized payload (every
    /// bit pattern, including ones ggml's quantizers never emit), with sane fp16/f32 scales.
    /// </summary>
    public static byte[] RandomRow(GgmlType type, int elements, Random rng)
    {
        var bytes = new byte[QuantTraits.RowBytes(type, elements)];
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<float, byte>(Floats(rng, elements)).CopyTo(bytes);
                return bytes;
            case GgmlType.F16:
                RowF16.QuantizeReference(Floats(rng, elements), bytes);
                return bytes;
            case GgmlType.BF16:
                RowBF16.Quantize(Floats(rng, elements), bytes);
                return bytes;
        }

        rng.NextBytes(bytes);
        var traits = QuantTraits.Get(type);
        for (int b = 0; b < elements / traits.BlockSize; b++)
        {
            var block = bytes.AsSpan(b * traits.BlockBytes, traits.BlockBytes);
            switch (type)
            {
                case GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.IQ4_NL or GgmlType.IQ4_XS:
                    WriteHalf(block, 0, Scale(rng));
                    break;
                case GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K:
                    WriteHalf(block, 0, Scale(rng));
                    WriteHalf(block, 2, Scale(rng));
                    break;
                case GgmlType.Q6_K:
                    WriteHalf(block, 208, Scale(rng));
                    break;
                case GgmlType.Q2_K:
                    WriteHalf(block, 80, Scale(rng));
                    WriteHalf(block, 82, Scale(rng));
                    break;
                case GgmlType.Q3_K:
                    WriteHalf(block, 108, Scale(rng));
                    break;
                case GgmlType.Q8_K:
                    BinaryPrimitives.WriteSingleLittleEndian(block, Scale(rng));
                    break;
            }
        }

        return bytes;
    }

    /// <summary>A block scale in ±[0.001, 0.05).</summary>
    public static float Scale(Random rng) => (float)((0.001 + (rng.NextDouble() * 0.049)) * (rng.Next(2) == 0 ? -1 : 1));

    public static void WriteHalf(Span<byte> bytes, int offset, float value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[offset..], BitConverter.HalfToUInt16Bits((Half)value));

    /// <summary>The row dequantized by the scalar reference.</summary>
    public static float[] DequantizeReference(GgmlType type, ReadOnlySpan<byte> row, int elements)
    {
        var values = new float[elements];
        Dequantize.Row(type, row, values, SimdWidth.Scalar);
        return values;
    }

    /// <summary>The exact dot (in double) and the scale Σ|aᵢ·bᵢ| of its rounding error.</summary>
    public static (double Dot, double Magnitude) ExactDot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0;
        double magnitude = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double term = (double)a[i] * b[i];
            dot += term;
            magnitude += Math.Abs(term);
        }

        return (dot, magnitude);
    }

    /// <summary>Asserts |actual − expected| ≤ tolerance · magnitude (plus a hair for all-zero inputs).</summary>
    public static void AssertClose(double expected, double actual, double tolerance, double magnitude, string what)
    {
        double error = Math.Abs(actual - expected);
        double allowed = (tolerance * magnitude) + 1e-30;
        if (!(error <= allowed)) // not "error > allowed": a NaN must fail
        {
            Assert.Fail($"{what}: expected {expected}, got {actual}; error {error:E3} > allowed {allowed:E3}.");
        }
    }

    /// <summary>Copies <paramref name="values"/> into a new array at element <paramref name="offset"/> (unaligned starts).</summary>
    public static Span<T> AtOffset<T>(T[] values, int offset)
    {
        var buffer = new T[values.Length + offset];
        values.CopyTo(buffer, offset);
        return buffer.AsSpan(offset, values.Length);
    }
}
