namespace Kvasir.Kernels;

/// <summary>How <see cref="MatMul"/> multiplies quantized weights with the activations.</summary>
public enum MatMulActivations
{
    /// <summary>
    /// Activations stay in float; weights are dequantized on the fly (the default). The only rounding
    /// beyond float arithmetic is the weights' own.
    /// </summary>
    Float,

    /// <summary>
    /// As llama.cpp does: the activations are first quantized per token (to Q8_0 for Q4_0, Q5_0 and Q8_0
    /// weights, to Q8_K for Q4_K, Q5_K and Q6_K), then multiplied with integer dot products (AVX2). Faster
    /// for decode, with the activations' rounding added (about 0.4% of each block's largest element).
    /// Other weight types, and machines without AVX2, use <see cref="Float"/>.
    /// </summary>
    Int8,
}
