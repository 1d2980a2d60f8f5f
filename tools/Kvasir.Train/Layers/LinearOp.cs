namespace Kvasir.Train.Layers;

/// <summary>
/// A linear layer without bias, <c>y = x · Wᵀ</c> with W [out, in] as GGUF stores it. The forward pass takes
/// Wᵀ [in, out] (transposed once per step by the caller) so that every product is a row-major <see cref="Gemm"/>.
/// </summary>
internal static class LinearOp
{
    /// <summary>y[n, out] = x[n, in] · wt[in, out].</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> wt, Span<float> y, int n, int inDim, int outDim) =>
        Gemm.Multiply(x, inDim, 1, wt, outDim, y, outDim, n, outDim, inDim, accumulate: false);

    /// <summary>dx[n, in] (+)= dy · W; dw[out, in] += dyᵀ · x.</summary>
    public static void Backward(
        ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> dx, Span<float> dw, int n, int inDim, int outDim,
        bool accumulateDx)
    {
        Gemm.Multiply(dy, outDim, 1, w, inDim, dx, inDim, n, inDim, outDim, accumulateDx);
        Gemm.Multiply(dy, 1, outDim, x, inDim, dw, inDim, outDim, inDim, n, accumulate: true);
    }
}
