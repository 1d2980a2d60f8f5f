namespace Kvasir.Kernels;

/// <summary>How <see cref="MatMul"/> multiplies quantized weights with the activations.</summary>
public enum MatMulActivations
{
    /// <summary>
    /// Activations stay in float; weights are dequantized on the fly. The only rounding beyond float
    /// arithmetic is the weights' own. Weight types without an integer path (F32, F16, BF16, Q4_1, Q5_1) always
    /// take it.
    /// </summary>
    Float,

    /// <summary>
    /// As llama.cpp does for decode: the activations of a small product are first quantized per token (to Q8_0 for
    /// Q4_0, Q5_0, Q8_0 and IQ4_NL weights, to Q8_K for the K-quants and IQ4_XS), then multiplied with integer dot products
    /// (AVX2), which adds the activations' rounding (at most 0.4% of each block's largest element) and reproduces
    /// llama.cpp's results to about 1e-7. The model's default. Small means below
    /// <c>MatMulWork.Int8MaxTokens</c>: 4 tokens in general, 8 for Q4_0, Q5_0, Q8_0 and IQ4_NL, 12 for IQ4_XS, 24 for Q2_K, Q3_K, Q5_K and Q6_K and every
    /// count for Q4_K (24 where the GEMM runs 512-bit kernels), whose multi-token kernels give each token the bits it gets alone; larger products take the float
    /// tiles (4–7 tokens) or the outer-product GEMM, faster there, so a sequence's logits can differ in the last bits
    /// between a step where it decodes with few others and one shared with many (the float kernels also sum in
    /// different orders). On machines with AVX-VNNI or AVX-512 the Q8_0 family and the K-quants Q2_K to Q6_K stay on the
    /// integer path at every count instead: from 8 (Q8_0 family) or 16 (K-quants) tokens on it is an integer GEMM.
    /// Other weight types and machines without AVX2 take the float path.
    /// </summary>
    Int8,
}
