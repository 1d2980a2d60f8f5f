using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests;

/// <summary>
/// Named error tolerances, one per data type and operation (llama.cpp's test-backend-ops style).
/// "Relative to Σ|terms|" means |actual − expected| ≤ tol · Σ|aᵢ·bᵢ|: the scale of the rounding error of
/// a float sum taken in another order, which does not blow up when the terms cancel.
/// </summary>
internal static class Tolerance
{
    /// <summary>Float dot products (Ops.Dot, F32 rows) against a double sum, relative to Σ|terms|.</summary>
    public const double F32Dot = 1e-5;

    /// <summary>F16 rows: the conversion is exact, so only the float summation differs.</summary>
    public const double F16Dot = 1e-5;

    /// <summary>BF16 rows: the conversion is exact, so only the float summation differs.</summary>
    public const double BF16Dot = 1e-5;

    /// <summary>32-element block formats (q·x products, then the block scale).</summary>
    public const double Q4_0Dot = 1e-5;

    /// <summary>Q4_1 adds the min term Σx·m, a second float sum.</summary>
    public const double Q4_1Dot = 2e-5;

    /// <summary>Q5_0: as Q4_0.</summary>
    public const double Q5_0Dot = 1e-5;

    /// <summary>Q5_1: as Q4_1.</summary>
    public const double Q5_1Dot = 2e-5;

    /// <summary>Q8_0: as Q4_0.</summary>
    public const double Q8_0Dot = 1e-5;

    /// <summary>Q2_K: a min per sub-block of 16, so as the K-quants with mins.</summary>
    public const double Q2_KDot = 2e-5;

    /// <summary>Q3_K: 16 scales per super-block, no mins (as Q6_K).</summary>
    public const double Q3_KDot = 1e-5;

    /// <summary>K-quants with mins (Q4_K, Q5_K): the min terms cancel against the scaled terms.</summary>
    public const double Q4_KDot = 2e-5;

    /// <summary>Q5_K: as Q4_K.</summary>
    public const double Q5_KDot = 2e-5;

    /// <summary>Q6_K: 16 scales per super-block, no mins.</summary>
    public const double Q6_KDot = 1e-5;

    /// <summary>IQ4_NL: as Q4_0 (its levels are exact small integers times the block scale).</summary>
    public const double IQ4_NLDot = 1e-5;

    /// <summary>IQ4_XS: 8 scales per super-block, no mins.</summary>
    public const double IQ4_XSDot = 1e-5;

    /// <summary>Q8_K: one float scale per 256 elements.</summary>
    public const double Q8_KDot = 1e-5;

    /// <summary>
    /// Integer dot products (weights × Q8 activations), SIMD against the scalar reference and both against
    /// the double dot of the dequantized operands, relative to Σ|terms|: the integer sums are exact, only
    /// the float accumulation of the block results differs.
    /// </summary>
    public const double Int8Dot = 1e-5;

    /// <summary>Q8_0 activation rounding: half a step (amax/127) plus the fp16 rounding of the scale, per element.</summary>
    public const double Q8_0ActivationStep = (0.5 / 127) + (1.0 / 2048);

    /// <summary>Q8_K activation rounding: half a step (amax/127; the scale is a float), per element.</summary>
    public const double Q8_KActivationStep = (0.5 / 127) + 1e-6;

    /// <summary>MatMul (any type) against a double loop over the reference-dequantized weights, relative to Σ|terms|.</summary>
    public const double MatMul = 2e-5;

    /// <summary>Vector exp (SwiGlu, Softmax) against MathF.Exp: relative error per element.</summary>
    public const double VectorExp = 4e-6;

    /// <summary>RMS norm: float vs double sum of squares; relative error per element.</summary>
    public const double RmsNorm = 4e-6;

    /// <summary>Softmax probabilities: absolute error per element.</summary>
    public const double Softmax = 2e-6;

    /// <summary>RoPE against double-precision cos/sin of the float angle, relative to the head's max |x|.</summary>
    public const double Rope = 2e-6;

    /// <summary>Attention output, relative to the largest |v| element (softmax weights sum to 1).</summary>
    public const double Attention = 1e-5;

    /// <summary>F16 round trip of a normal float: half an ulp of an 11-bit significand.</summary>
    public const double F16RoundTripRelative = 1.0 / 2048;

    /// <summary>BF16 round trip of a normal float: half an ulp of an 8-bit significand.</summary>
    public const double BF16RoundTripRelative = 1.0 / 256;

    /// <summary>The dot tolerance of a weight type.</summary>
    public static double Dot(GgmlType type) => type switch
    {
        GgmlType.F32 => F32Dot,
        GgmlType.F16 => F16Dot,
        GgmlType.BF16 => BF16Dot,
        GgmlType.Q4_0 => Q4_0Dot,
        GgmlType.Q4_1 => Q4_1Dot,
        GgmlType.Q5_0 => Q5_0Dot,
        GgmlType.Q5_1 => Q5_1Dot,
        GgmlType.Q8_0 => Q8_0Dot,
        GgmlType.Q2_K => Q2_KDot,
        GgmlType.Q3_K => Q3_KDot,
        GgmlType.Q4_K => Q4_KDot,
        GgmlType.Q5_K => Q5_KDot,
        GgmlType.Q6_K => Q6_KDot,
        GgmlType.Q8_K => Q8_KDot,
        GgmlType.IQ4_NL => IQ4_NLDot,
        GgmlType.IQ4_XS => IQ4_XSDot,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
