using Kvasir.Kernels.Quant;

namespace Kvasir.Model.Gguf;

/// <summary>
/// One tensor's entry in a GGUF file. <see cref="Shape"/> is in ggml order: Shape[0] is the number of
/// elements in a row (the fastest-varying dimension), Shape[1] the number of rows, and so on.
/// </summary>
/// <param name="Name">Tensor name, for example "blk.0.attn_q.weight".</param>
/// <param name="Type">Element type.</param>
/// <param name="Shape">Dimensions, ggml order (ne0 first).</param>
/// <param name="Offset">Byte offset of the data, relative to the start of the data section.</param>
/// <param name="ByteSize">Number of bytes of data.</param>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Shape, long Offset, long ByteSize)
{
    /// <summary>Total number of elements.</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape)
            {
                n *= d;
            }

            return n;
        }
    }

    /// <summary>Elements per row (Shape[0]).</summary>
    public long Columns => Shape.Length > 0 ? Shape[0] : 1;

    /// <summary>Number of rows (the product of every dimension but the first).</summary>
    public long Rows => Shape.Length > 0 ? ElementCount / Shape[0] : 1;

    /// <summary>The shape as text, ggml order, for example "[576, 49152]".</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
