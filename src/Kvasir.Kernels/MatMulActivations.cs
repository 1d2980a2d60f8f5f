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
    /// As llama.cpp does for decode: the activations are first quantized per token (to Q8_0 for Q4_0, Q5_0
    /// and Q8_0 weights, to Q8_K for Q4_K, Q5_K and Q6_K), then multiplied with integer dot products
    /// (AVX2), which adds the activations' rounding (at most 0.4% of each block's largest element).
    /// Applies to products of fewer than 4 tokens, where it measured 1.3-1.9x faster than
    /// <see cref="Float"/> (single thread, 256×2048, see docs/kernels.md); larger batches, other weight
    /// types and machines without AVX2 take the float path, whose tiled kernel is faster there.
    /// </summary>
    Int8,
}
