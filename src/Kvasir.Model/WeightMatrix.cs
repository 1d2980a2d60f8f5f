using Kvasir.Kernels.Quant;

namespace Kvasir.Model;

/// <summary>
/// A weight matrix used in place from the memory-mapped file: <see cref="Rows"/> rows of
/// <see cref="Columns"/> elements, each row <c>RowBytes(Type, Columns)</c> bytes.
/// </summary>
public readonly unsafe struct WeightMatrix
{
    private readonly byte* _data;

    /// <summary>Wraps mapped data.</summary>
    public WeightMatrix(string name, GgmlType type, int rows, int columns, byte* data)
    {
        Name = name;
        Type = type;
        Rows = rows;
        Columns = columns;
        RowBytes = (int)QuantTraits.RowBytes(type, columns);
        _data = data;
    }

    /// <summary>Tensor name in the file.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public GgmlType Type { get; }

    /// <summary>Number of rows (output features).</summary>
    public int Rows { get; }

    /// <summary>Elements per row (input features).</summary>
    public int Columns { get; }

    /// <summary>Bytes per row.</summary>
    public int RowBytes { get; }

    /// <summary>All rows, in place.</summary>
    public ReadOnlySpan<byte> Data => new(_data, checked(RowBytes * Rows));

    /// <summary>One row's encoded bytes.</summary>
    public ReadOnlySpan<byte> Row(int row) => new(_data + ((long)row * RowBytes), RowBytes);
}
