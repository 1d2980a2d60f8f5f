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
    /// As llama.cpp does: the activations are first quantized per token (to Q8_0 for Q4_0, Q5_0 and Q8_0 weights,
    /// to Q8_K for Q4_K, Q5_K and Q6_K), then multiplied with integer dot products (AVX2), which adds the
    /// activations' rounding (at most 0.4% of each block's largest element) and reproduces llama.cpp's results to
    /// about 1e-7. Every token is quantized and dotted the same way whatever the batch size, so a sequence's
    /// logits do not depend on what else is in the batch. The model's default: 1.6–1.9× faster than
    /// <see cref="Float"/> for one token and on par for 16 and 128 (BenchmarkDotNet, docs/benchmarks.md).
    /// Machines without AVX2 take the float path.
    /// </summary>
    Int8,
}
