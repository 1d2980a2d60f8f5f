namespace Kvasir.Kernels.Quant;

/// <summary>
/// Tensor element types, numbered exactly as ggml numbers them (the values are stored in GGUF files).
/// Only the types with a row in <see cref="QuantTraits"/> can be computed with.
/// </summary>
public enum GgmlType : uint
{
    /// <summary>IEEE single precision.</summary>
    F32 = 0,

    /// <summary>IEEE half precision.</summary>
    F16 = 1,

    /// <summary>4-bit, 32-element blocks with an fp16 scale.</summary>
    Q4_0 = 2,

    /// <summary>4-bit, 32-element blocks with an fp16 scale and minimum.</summary>
    Q4_1 = 3,

    /// <summary>5-bit, 32-element blocks with an fp16 scale.</summary>
    Q5_0 = 6,

    /// <summary>5-bit, 32-element blocks with an fp16 scale and minimum.</summary>
    Q5_1 = 7,

    /// <summary>8-bit, 32-element blocks with an fp16 scale.</summary>
    Q8_0 = 8,

    /// <summary>8-bit, 32-element blocks with a scale and a sum (activations; not supported).</summary>
    Q8_1 = 9,

    /// <summary>2-bit K-quant: 256-element super-blocks of 16 sub-blocks with 4-bit scales and mins.</summary>
    Q2_K = 10,

    /// <summary>3-bit K-quant: 256-element super-blocks of 16 sub-blocks with 6-bit scales.</summary>
    Q3_K = 11,

    /// <summary>4-bit K-quant: 256-element super-blocks of 8 sub-blocks with 6-bit scales and mins.</summary>
    Q4_K = 12,

    /// <summary>5-bit K-quant: 256-element super-blocks of 8 sub-blocks with 6-bit scales and mins.</summary>
    Q5_K = 13,

    /// <summary>6-bit K-quant: 256-element super-blocks of 16 sub-blocks with int8 scales.</summary>
    Q6_K = 14,

    /// <summary>8-bit K-quant activations: 256 elements, a float scale and 16 block sums.</summary>
    Q8_K = 15,

    /// <summary>ggml type IQ2_XXS (not supported).</summary>
    IQ2_XXS = 16,

    /// <summary>ggml type IQ2_XS (not supported).</summary>
    IQ2_XS = 17,

    /// <summary>ggml type IQ3_XXS (not supported).</summary>
    IQ3_XXS = 18,

    /// <summary>ggml type IQ1_S (not supported).</summary>
    IQ1_S = 19,

    /// <summary>4-bit non-linear: 32-element blocks of indices into a fixed 16-level grid, with an fp16 scale.</summary>
    IQ4_NL = 20,

    /// <summary>ggml type IQ3_S (not supported).</summary>
    IQ3_S = 21,

    /// <summary>ggml type IQ2_S (not supported).</summary>
    IQ2_S = 22,

    /// <summary>4-bit non-linear: 256-element super-blocks of 8 sub-blocks with 6-bit scales, IQ4_NL's grid.</summary>
    IQ4_XS = 23,

    /// <summary>ggml type I8 (not supported).</summary>
    I8 = 24,

    /// <summary>ggml type I16 (not supported).</summary>
    I16 = 25,

    /// <summary>ggml type I32 (not supported).</summary>
    I32 = 26,

    /// <summary>ggml type I64 (not supported).</summary>
    I64 = 27,

    /// <summary>ggml type F64 (not supported).</summary>
    F64 = 28,

    /// <summary>ggml type IQ1_M (not supported).</summary>
    IQ1_M = 29,

    /// <summary>bfloat16: the upper half of an IEEE single.</summary>
    BF16 = 30,

    /// <summary>ggml type TQ1_0 (not supported).</summary>
    TQ1_0 = 34,

    /// <summary>ggml type TQ2_0 (not supported).</summary>
    TQ2_0 = 35,

    /// <summary>ggml type MXFP4 (not supported).</summary>
    MXFP4 = 39,
}
