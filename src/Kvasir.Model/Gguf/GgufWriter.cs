using System.Buffers.Binary;
using System.Text;
using Kvasir.Kernels.Quant;

namespace Kvasir.Model.Gguf;

/// <summary>
/// Writes GGUF version 3 files: metadata in the order added, then tensor infos, then aligned tensor data.
/// Tensor data is written from memory or produced lazily by a callback, so large models need not be held in RAM.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValue Value)> _metadata = [];
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);

    /// <summary>Creates a writer with the given data alignment (written as general.alignment when not 32).</summary>
    public GgufWriter(int alignment = GgufFile.DefaultAlignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a positive power of two.");
        }

        Alignment = alignment;
        if (alignment != GgufFile.DefaultAlignment)
        {
            Add("general.alignment", (uint)alignment);
        }
    }

    /// <summary>Alignment of tensor data.</summary>
    public int Alignment { get; }

    /// <summary>
    /// Adds a metadata value. Supported .NET types: string, bool, byte, sbyte, ushort, short, uint, int, float,
    /// ulong, long, double, and one-dimensional arrays of those.
    /// </summary>
    public GgufWriter Add(string key, object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!_keys.Add(key))
        {
            throw new ArgumentException($"The metadata key '{key}' was already added.", nameof(key));
        }

        GgufValue v = value is Array array
            ? new GgufValue(GgufValueType.Array, array, TypeOf(array.GetType().GetElementType()!, key))
            : new GgufValue(TypeOf(value.GetType(), key), value);
        _metadata.Add((key, v));
        return this;
    }

    /// <summary>Adds a tensor whose bytes are already encoded in <paramref name="type"/>.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="type">Element type of the data.</param>
    /// <param name="shape">Dimensions in ggml order (elements per row first).</param>
    /// <param name="data">Encoded data, exactly RowBytes(type, shape[0]) × rows bytes.</param>
    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, ReadOnlyMemory<byte> data)
    {
        var size = ByteSize(name, type, shape);
        if (data.Length != size)
        {
            throw new ArgumentException($"Tensor '{name}' of type {type} and shape [{string.Join(", ", shape)}] needs {size} bytes, got {data.Length}.", nameof(data));
        }

        return AddTensor(name, type, shape, stream => stream.Write(data.Span));
    }

    /// <summary>Adds a tensor whose bytes the callback writes when the file is written.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(writeData);
        if (_tensors.Exists(t => t.Name == name))
        {
            throw new ArgumentException($"The tensor '{name}' was already added.", nameof(name));
        }

        _tensors.Add(new PendingTensor(name, type, (long[])shape.Clone(), ByteSize(name, type, shape), writeData));
        return this;
    }

    /// <summary>Adds a tensor given as F32 values, encoded row by row into <paramref name="storeAs"/>.</summary>
    public GgufWriter AddTensor(string name, long[] shape, float[] values, GgmlType storeAs)
    {
        var columns = (int)shape[0];
        var rowBytes = (int)QuantTraits.RowBytes(storeAs, columns);
        if (values.LongLength != ElementCount(shape))
        {
            throw new ArgumentException($"Tensor '{name}' has shape [{string.Join(", ", shape)}] but {values.Length} values.", nameof(values));
        }

        return AddTensor(name, storeAs, shape, stream =>
        {
            var buffer = new byte[rowBytes];
            for (long offset = 0; offset < values.LongLength; offset += columns)
            {
                Quantize.Row(storeAs, values.AsSpan((int)offset, columns), buffer);
                stream.Write(buffer);
            }
        });
    }

    /// <summary>Writes the file (overwriting). A failure leaves no partial file behind.</summary>
    public void Write(string path)
    {
        var temp = path + ".partial";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                WriteTo(stream);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes the whole file to a stream.</summary>
    public void WriteTo(Stream stream)
    {
        var header = new MemoryStream();
        WriteU32(header, GgufFile.Magic);
        WriteU32(header, 3);
        WriteU64(header, (ulong)_tensors.Count);
        WriteU64(header, (ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(header, key);
            WriteU32(header, (uint)value.Type);
            if (value.Type == GgufValueType.Array)
            {
                var array = (Array)value.Value;
                WriteU32(header, (uint)value.ElementType);
                WriteU64(header, (ulong)array.LongLength);
                foreach (var item in array)
                {
                    WriteScalar(header, value.ElementType, item!);
                }
            }
            else
            {
                WriteScalar(header, value.Type, value.Value);
            }
        }

        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (var i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            offsets[i] = offset;
            WriteString(header, t.Name);
            WriteU32(header, (uint)t.Shape.Length);
            foreach (var d in t.Shape)
            {
                WriteU64(header, (ulong)d);
            }

            WriteU32(header, (uint)t.Type);
            WriteU64(header, (ulong)offset);
            offset = AlignUp(offset + t.ByteSize);
        }

        header.Position = 0;
        header.CopyTo(stream);
        WritePadding(stream, header.Length);
        for (var i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            var before = stream.Position;
            t.WriteData(stream);
            var written = stream.Position - before;
            if (written != t.ByteSize)
            {
                throw new InvalidOperationException($"Tensor '{t.Name}' wrote {written} bytes, expected {t.ByteSize}.");
            }

            WritePadding(stream, t.ByteSize);
        }
    }

    private void WritePadding(Stream stream, long length)
    {
        var pad = AlignUp(length) - length;
        for (var i = 0; i < pad; i++)
        {
            stream.WriteByte(0);
        }
    }

    private long AlignUp(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private static long ElementCount(long[] shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n *= d;
        }

        return n;
    }

    private static long ByteSize(string name, GgmlType type, long[] shape)
    {
        if (shape.Length is 0 or > 4 || Array.Exists(shape, d => d <= 0))
        {
            throw new ArgumentException($"Tensor '{name}' has an invalid shape [{string.Join(", ", shape)}]: 1 to 4 positive dimensions.", nameof(shape));
        }

        return QuantTraits.RowBytes(type, shape[0]) * (ElementCount(shape) / shape[0]);
    }

    private static GgufValueType TypeOf(Type type, string key) => type switch
    {
        _ when type == typeof(byte) => GgufValueType.UInt8,
        _ when type == typeof(sbyte) => GgufValueType.Int8,
        _ when type == typeof(ushort) => GgufValueType.UInt16,
        _ when type == typeof(short) => GgufValueType.Int16,
        _ when type == typeof(uint) => GgufValueType.UInt32,
        _ when type == typeof(int) => GgufValueType.Int32,
        _ when type == typeof(float) => GgufValueType.Float32,
        _ when type == typeof(bool) => GgufValueType.Bool,
        _ when type == typeof(string) => GgufValueType.String,
        _ when type == typeof(ulong) => GgufValueType.UInt64,
        _ when type == typeof(long) => GgufValueType.Int64,
        _ when type == typeof(double) => GgufValueType.Float64,
        _ => throw new ArgumentException($"Metadata key '{key}': values of type {type.Name} cannot be stored in GGUF.", nameof(key)),
    };

    private static void WriteScalar(Stream s, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: s.WriteByte((byte)value); break;
            case GgufValueType.Int8: s.WriteByte((byte)(sbyte)value); break;
            case GgufValueType.UInt16: WriteU16(s, (ushort)value); break;
            case GgufValueType.Int16: WriteU16(s, (ushort)(short)value); break;
            case GgufValueType.UInt32: WriteU32(s, (uint)value); break;
            case GgufValueType.Int32: WriteU32(s, (uint)(int)value); break;
            case GgufValueType.Float32: WriteU32(s, BitConverter.SingleToUInt32Bits((float)value)); break;
            case GgufValueType.Bool: s.WriteByte((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(s, (string)value); break;
            case GgufValueType.UInt64: WriteU64(s, (ulong)value); break;
            case GgufValueType.Int64: WriteU64(s, (ulong)(long)value); break;
            case GgufValueType.Float64: WriteU64(s, BitConverter.DoubleToUInt64Bits((double)value)); break;
            default: throw new InvalidOperationException($"Cannot write a scalar of type {type}.");
        }
    }

    private static void WriteString(Stream s, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteU64(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteU16(Stream s, ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        s.Write(b);
    }

    private static void WriteU32(Stream s, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        s.Write(b);
    }

    private static void WriteU64(Stream s, ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        s.Write(b);
    }

    private sealed record PendingTensor(string Name, GgmlType Type, long[] Shape, long ByteSize, Action<Stream> WriteData);
}
