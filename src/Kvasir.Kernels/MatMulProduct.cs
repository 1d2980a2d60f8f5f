using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels;

/// <summary>
/// One product of <see cref="MatMul.ComputeGroup(ReadOnlySpan{float}, int, int, KernelThreadPool, MatMulActivations, MatMulProduct, MatMulProduct, MatMulProduct)"/>: a [<see cref="Rows"/>, cols] weight matrix and the
/// [n, <see cref="Rows"/>] output it writes. <c>default</c> is an empty product (no rows).
/// </summary>
/// <param name="type">Element type of the weights.</param>
/// <param name="weights">[rows, cols] row-major, each row <see cref="QuantTraits.RowBytes"/>(type, cols) bytes.</param>
/// <param name="rows">Output features (weight rows).</param>
/// <param name="output">[n, rows] row-major results.</param>
public readonly ref struct MatMulProduct(GgmlType type, ReadOnlySpan<byte> weights, int rows, Span<float> output)
{
    /// <summary>Element type of the weights.</summary>
    public GgmlType Type { get; } = type;

    /// <summary>The weight rows.</summary>
    public ReadOnlySpan<byte> Weights { get; } = weights;

    /// <summary>Output features.</summary>
    public int Rows { get; } = rows;

    /// <summary>Where the product goes.</summary>
    public Span<float> Output { get; } = output;
}
