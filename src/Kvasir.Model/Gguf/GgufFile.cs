using System.IO.MemoryMappedFiles;
using Kvasir.Kernels;
using Kvasir.Kernels.Quant;

namespace Kvasir.Model.Gguf;

/// <summary>
/// A GGUF file (version 2 or 3), memory-mapped read-only. The header (metadata and tensor infos) is parsed
/// and validated at open; tensor data is used in place through <see cref="TensorData"/>, or read once into
/// huge-page memory (<see cref="WeightMemory.Resident"/>).
/// Any damaged, truncated or unsupported file raises <see cref="ModelFormatException"/>.
/// </summary>
/// <remarks>
/// Layout (little-endian):
/// <code>
/// "GGUF" | u32 version | u64 tensor_count | u64 kv_count
/// kv_count × ( string key | u32 value_type | value )          string = u64 length + UTF-8 bytes
/// tensor_count × ( string name | u32 n_dims | u64 dims[n_dims] | u32 ggml_type | u64 offset )
/// padding to general.alignment (default 32)
/// data section: each tensor at data_start + offset (offsets aligned)
/// </code>
/// </remarks>
public sealed unsafe partial class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian u32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>The alignment used when the file does not set general.alignment.</summary>
    public const int DefaultAlignment = 32;

    private const int MaxDims = 4;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private byte* _resident;   // the data section read into HugePageMemory (WeightMemory.Resident), else null
    private readonly Dictionary<string, GgufValue> _metadata;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;
    private bool _disposed;

    private GgufFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer, long length)
    {
        FilePath = path;
        FileLength = length;
        _map = map;
        _view = view;
        _base = basePointer;
        _metadata = new Dictionary<string, GgufValue>(StringComparer.Ordinal);
        _tensorsByName = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
        Tensors = [];
    }

    /// <summary>The path the file was opened from.</summary>
    public string FilePath { get; }

    /// <summary>Length of the file in bytes.</summary>
    public long FileLength { get; }

    /// <summary>The GGUF version (2 or 3).</summary>
    public uint Version { get; private set; }

    /// <summary>Alignment of tensor data (general.alignment, default 32).</summary>
    public int Alignment { get; private set; } = DefaultAlignment;

    /// <summary>Byte offset of the data section in the file.</summary>
    public long DataOffset { get; private set; }

    /// <summary>All metadata, in file order of keys is not kept; look keys up by name.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata => _metadata;

    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; private set; }

    /// <summary>Where the tensor data lives: <see cref="WeightMemory.Mapped"/> or <see cref="WeightMemory.Resident"/>.</summary>
    public WeightMemory Memory => _resident != null ? WeightMemory.Resident : WeightMemory.Mapped;

    /// <summary>
    /// Opens and validates a GGUF file, its tensors used in place in the mapping. Throws
    /// <see cref="ModelFormatException"/> for a damaged or unsupported file and <see cref="FileNotFoundException"/>
    /// when there is no such file.
    /// </summary>
    public static GgufFile Open(string path) => Open(path, WeightMemory.Mapped);

    /// <summary>
    /// Opens and validates a GGUF file, with its tensor data where <paramref name="memory"/> says
    /// (<see cref="WeightMemory.Auto"/>: read into huge pages where the OS has them).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="memory">Where the tensor data should live.</param>
    public static GgufFile Open(string path, WeightMemory memory)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Model file '{path}' does not exist. Check the path, or make a test model with 'kvasir make-model'.", path);
        }

        var length = new FileInfo(path).Length;
        if (length < 24)
        {
            throw new ModelFormatException(path, $"the file is {length} bytes long, too short to be a GGUF file (the header alone is 24 bytes).", null,
                "The file is empty or truncated: download or convert it again.");
        }

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        GgufFile? file = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            file = new GgufFile(path, map, view, pointer, length);
            file.Parse();
            if (memory == WeightMemory.Resident || (memory == WeightMemory.Auto && HugePageMemory.IsAvailable))
            {
                try
                {
                    file.ReadDataIntoMemory();
                }
                catch (OutOfMemoryException) when (memory == WeightMemory.Auto)
                {
                    // Not enough memory for a private copy: the tensors stay in the mapped file (slower decode, same results).
                }
            }

            return file;
        }
        catch
        {
            if (file is not null)
            {
                file.Dispose();
            }
            else
            {
                view?.Dispose();
                map.Dispose();
            }

            throw;
        }
    }

    /// <summary>Finds a tensor by name, or null.</summary>
    public GgufTensorInfo? FindTensor(string name) => _tensorsByName.GetValueOrDefault(name);

    /// <summary>Gets a tensor by name; a missing tensor raises <see cref="ModelFormatException"/>.</summary>
    public GgufTensorInfo GetTensor(string name)
        => FindTensor(name) ?? throw new ModelFormatException(FilePath, $"the tensor '{name}' is missing.", $"tensor '{name}'",
            "The file is incomplete or was converted for another architecture: convert it again with a current llama.cpp.");

    /// <summary>Pointer to a tensor's data (valid until the file is disposed).</summary>
    public byte* TensorPointer(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return (_resident != null ? _resident : _base + DataOffset) + tensor.Offset;
    }

    /// <summary>A tensor's data in place. Tensors over 2 GiB must use <see cref="TensorPointer"/>.</summary>
    public ReadOnlySpan<byte> TensorData(GgufTensorInfo tensor)
    {
        if (tensor.ByteSize > int.MaxValue)
        {
            throw new NotSupportedException($"Tensor '{tensor.Name}' is {tensor.ByteSize} bytes, larger than one span; use TensorPointer.");
        }

        return new ReadOnlySpan<byte>(TensorPointer(tensor), (int)tensor.ByteSize);
    }

    /// <summary>Unmaps the file (and frees the tensor data read into memory).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        HugePageMemory.Free(_resident);
        _resident = null;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }

        _map?.Dispose();
    }

    /// <summary>
    /// Reads the data section (every tensor, at its offset from <see cref="DataOffset"/>) into huge-page memory with
    /// plain reads, not through the mapping, so that the file's pages are not also counted in this process.
    /// </summary>
    private void ReadDataIntoMemory()
    {
        long bytes = FileLength - DataOffset;
        if (bytes <= 0)
        {
            return;
        }

        byte* data = HugePageMemory.Allocate(bytes);
        try
        {
            using var handle = File.OpenHandle(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            long done = 0;
            while (done < bytes)
            {
                int chunk = (int)Math.Min(1 << 30, bytes - done);
                int read = RandomAccess.Read(handle, new Span<byte>(data + done, chunk), DataOffset + done);
                if (read == 0)
                {
                    throw Error($"the file ended after {DataOffset + done} bytes while its tensor data was read; it was {FileLength} bytes when opened.",
                        DataOffset + done, "The file changed while it was being opened: open it again once it is complete.");
                }

                done += read;
            }
        }
        catch
        {
            HugePageMemory.Free(data);
            throw;
        }

        _resident = data;
    }

    private ModelFormatException Error(string problem, long offset, string hint)
        => new(FilePath, problem, $"byte offset {offset}", hint);

    private void Parse()
    {
        var reader = new Reader(this);
        var magic = reader.U32();
        if (magic != Magic)
        {
            var shown = $"0x{magic:X8}";
            throw Error($"the file does not start with the GGUF magic ('GGUF'), it starts with {shown}.", 0,
                "This is not a GGUF model file (safetensors and PyTorch files must be converted with llama.cpp's convert_hf_to_gguf.py first).");
        }

        Version = reader.U32();
        if (Version is 0x02000000 or 0x03000000)
        {
            throw Error("the file is a big-endian GGUF file.", 4, "Kvasir reads little-endian GGUF files only: convert the model again without --bigendian.");
        }

        if (Version is not (2 or 3))
        {
            throw Error($"GGUF version {Version} is not supported (Kvasir reads versions 2 and 3).", 4,
                Version == 1 ? "Version 1 files are obsolete: convert the model again with a current llama.cpp." : "The file is damaged or from a newer format: check the download.");
        }

        var tensorCount = reader.U64();
        var kvCount = reader.U64();
        var remaining = FileLength - reader.Position;
        // Each key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8 + 4 + 8 + 4 + 8.
        if (kvCount > (ulong)(remaining / 13))
        {
            throw Error($"the header claims {kvCount} metadata entries, more than the file can hold.", 16, "The file is damaged or truncated: download or convert it again.");
        }

        if (tensorCount > (ulong)(remaining / 32))
        {
            throw Error($"the header claims {tensorCount} tensors, more than the file can hold.", 8, "The file is damaged or truncated: download or convert it again.");
        }

        for (ulong i = 0; i < kvCount; i++)
        {
            var keyOffset = reader.Position;
            var key = reader.String();
            var type = reader.U32();
            var value = ReadValue(ref reader, type, key, allowArray: true);
            if (!_metadata.TryAdd(key, value))
            {
                throw Error($"the metadata key '{key}' appears twice.", keyOffset, "The file is damaged: convert it again.");
            }
        }

        if (_metadata.TryGetValue("general.alignment", out var alignValue))
        {
            if (!alignValue.IsInteger)
            {
                throw new ModelFormatException(FilePath, $"general.alignment has type {alignValue.Type}, expected an integer.", "key 'general.alignment'", "The file is damaged: convert it again.");
            }

            var align = Convert.ToInt64(alignValue.Value, System.Globalization.CultureInfo.InvariantCulture);
            if (align <= 0 || align > 1 << 20 || (align & (align - 1)) != 0)
            {
                throw new ModelFormatException(FilePath, $"general.alignment is {align}, not a power of two between 1 and 1048576.", "key 'general.alignment'", "The file is damaged: convert it again.");
            }

            Alignment = (int)align;
        }

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        for (ulong i = 0; i < tensorCount; i++)
        {
            tensors.Add(ReadTensorInfo(ref reader));
        }

        DataOffset = AlignUp(reader.Position, Alignment);
        if (DataOffset > FileLength && tensorCount > 0)
        {
            throw Error("the file ends before its tensor data begins.", reader.Position, "The file is truncated: download or convert it again.");
        }

        var dataLength = FileLength - DataOffset;
        foreach (var t in tensors)
        {
            if (t.Offset % Alignment != 0)
            {
                throw new ModelFormatException(FilePath, $"tensor data offset {t.Offset} is not a multiple of the alignment {Alignment}.", $"tensor '{t.Name}'", "The file is damaged: convert it again.");
            }

            if (t.Offset > dataLength || t.ByteSize > dataLength - t.Offset)
            {
                throw new ModelFormatException(FilePath,
                    $"tensor data ({t.ByteSize} bytes at data offset {t.Offset}) runs past the end of the file ({dataLength} bytes of data).",
                    $"tensor '{t.Name}'", "The file is truncated: download or convert it again.");
            }

            if (!_tensorsByName.TryAdd(t.Name, t))
            {
                throw new ModelFormatException(FilePath, "the tensor name appears twice.", $"tensor '{t.Name}'", "The file is damaged: convert it again.");
            }
        }

        Tensors = tensors;
    }

    private GgufTensorInfo ReadTensorInfo(ref Reader reader)
    {
        var start = reader.Position;
        var name = reader.String();
        var nDims = reader.U32();
        if (nDims is 0 or > MaxDims)
        {
            throw Error($"tensor '{name}' has {nDims} dimensions; GGUF tensors have 1 to {MaxDims}.", start, "The file is damaged: convert it again.");
        }

        var shape = new long[nDims];
        long elements = 1;
        for (var d = 0; d < nDims; d++)
        {
            var dim = reader.U64();
            if (dim == 0 || dim > long.MaxValue / 2 || (ulong)elements > (ulong)long.MaxValue / dim)
            {
                throw Error($"tensor '{name}' has an impossible dimension {dim}.", reader.Position - 8, "The file is damaged: convert it again.");
            }

            shape[d] = (long)dim;
            elements *= (long)dim;
        }

        var typePosition = reader.Position;
        var rawType = reader.U32();
        var offset = reader.U64();
        var type = (GgmlType)rawType;
        if (!Enum.IsDefined(type))
        {
            throw Error($"tensor '{name}' has unknown ggml type id {rawType}.", typePosition,
                "The file uses a tensor type newer than Kvasir knows: re-quantize it to Q8_0, Q4_K_M or F16 with llama.cpp's llama-quantize.");
        }

        if (!QuantTraits.TryGet(type, out var traits))
        {
            throw Error($"tensor '{name}' has type {type}, which Kvasir does not support yet.", typePosition,
                "Re-quantize the model to a supported type (F32, F16, BF16, Q8_0, Q4_0, Q2_K, Q3_K_M, Q4_K_M, Q5_K_M, Q6_K, IQ4_NL or IQ4_XS) with llama.cpp's llama-quantize.");
        }

        if (shape[0] % traits.BlockSize != 0)
        {
            throw Error($"tensor '{name}' has rows of {shape[0]} elements, not a multiple of the {type} block size {traits.BlockSize}.", start,
                "The file is damaged: convert it again.");
        }

        if (offset > long.MaxValue)
        {
            throw Error($"tensor '{name}' has an impossible data offset {offset}.", typePosition + 4, "The file is damaged: convert it again.");
        }

        var blocks = elements / traits.BlockSize;
        if (blocks > long.MaxValue / traits.BlockBytes)
        {
            throw Error($"tensor '{name}' is impossibly large.", start, "The file is damaged: convert it again.");
        }

        return new GgufTensorInfo(name, type, shape, (long)offset, blocks * traits.BlockBytes);
    }

    private GgufValue ReadValue(ref Reader reader, uint rawType, string key, bool allowArray)
    {
        var position = reader.Position - 4;
        switch ((GgufValueType)rawType)
        {
            case GgufValueType.UInt8: return new GgufValue(GgufValueType.UInt8, reader.U8());
            case GgufValueType.Int8: return new GgufValue(GgufValueType.Int8, (sbyte)reader.U8());
            case GgufValueType.UInt16: return new GgufValue(GgufValueType.UInt16, reader.U16());
            case GgufValueType.Int16: return new GgufValue(GgufValueType.Int16, (short)reader.U16());
            case GgufValueType.UInt32: return new GgufValue(GgufValueType.UInt32, reader.U32());
            case GgufValueType.Int32: return new GgufValue(GgufValueType.Int32, (int)reader.U32());
            case GgufValueType.Float32: return new GgufValue(GgufValueType.Float32, BitConverter.UInt32BitsToSingle(reader.U32()));
            case GgufValueType.UInt64: return new GgufValue(GgufValueType.UInt64, reader.U64());
            case GgufValueType.Int64: return new GgufValue(GgufValueType.Int64, (long)reader.U64());
            case GgufValueType.Float64: return new GgufValue(GgufValueType.Float64, BitConverter.UInt64BitsToDouble(reader.U64()));
            case GgufValueType.String: return new GgufValue(GgufValueType.String, reader.String());
            case GgufValueType.Bool:
                var b = reader.U8();
                if (b > 1)
                {
                    throw Error($"metadata key '{key}' is a bool with the byte value {b} (expected 0 or 1).", reader.Position - 1, "The file is damaged: convert it again.");
                }

                return new GgufValue(GgufValueType.Bool, b == 1);
            case GgufValueType.Array when allowArray:
                return ReadArray(ref reader, key);
            case GgufValueType.Array:
                throw Error($"metadata key '{key}' holds an array of arrays, which GGUF readers do not support.", position, "The file is damaged or was written by a non-standard tool.");
            default:
                throw Error($"metadata key '{key}' has unknown value type {rawType}.", position, "The file is damaged, or from a newer GGUF version: convert it again.");
        }
    }

    private GgufValue ReadArray(ref Reader reader, string key)
    {
        var typePosition = reader.Position;
        var elementRaw = reader.U32();
        var count = reader.U64();
        var elementType = (GgufValueType)elementRaw;
        var minSize = elementType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
            GgufValueType.Array => throw Error($"metadata key '{key}' holds an array of arrays, which Kvasir does not support.", typePosition, "The file was written by a non-standard tool."),
            _ => throw Error($"metadata key '{key}' is an array of unknown element type {elementRaw}.", typePosition, "The file is damaged: convert it again."),
        };
        if (count > (ulong)((FileLength - reader.Position) / minSize))
        {
            throw Error($"metadata key '{key}' claims {count} array elements, more than the rest of the file can hold.", typePosition + 4, "The file is damaged or truncated: download or convert it again.");
        }

        var n = (int)count;
        Array array = elementType switch
        {
            GgufValueType.UInt8 => Fill(ref reader, new byte[n], static (ref Reader r) => r.U8()),
            GgufValueType.Int8 => Fill(ref reader, new sbyte[n], static (ref Reader r) => (sbyte)r.U8()),
            GgufValueType.Bool => Fill(ref reader, new bool[n], static (ref Reader r) => r.U8() != 0),
            GgufValueType.UInt16 => Fill(ref reader, new ushort[n], static (ref Reader r) => r.U16()),
            GgufValueType.Int16 => Fill(ref reader, new short[n], static (ref Reader r) => (short)r.U16()),
            GgufValueType.UInt32 => Fill(ref reader, new uint[n], static (ref Reader r) => r.U32()),
            GgufValueType.Int32 => Fill(ref reader, new int[n], static (ref Reader r) => (int)r.U32()),
            GgufValueType.Float32 => Fill(ref reader, new float[n], static (ref Reader r) => BitConverter.UInt32BitsToSingle(r.U32())),
            GgufValueType.UInt64 => Fill(ref reader, new ulong[n], static (ref Reader r) => r.U64()),
            GgufValueType.Int64 => Fill(ref reader, new long[n], static (ref Reader r) => (long)r.U64()),
            GgufValueType.Float64 => Fill(ref reader, new double[n], static (ref Reader r) => BitConverter.UInt64BitsToDouble(r.U64())),
            _ => Fill(ref reader, new string[n], static (ref Reader r) => r.String()),
        };
        return new GgufValue(GgufValueType.Array, array, elementType);
    }

    private delegate T ReadOne<T>(ref Reader reader);

    private static T[] Fill<T>(ref Reader reader, T[] array, ReadOne<T> read)
    {
        for (var i = 0; i < array.Length; i++)
        {
            array[i] = read(ref reader);
        }

        return array;
    }

    private static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

    /// <summary>A bounds-checked little-endian cursor over the mapped header.</summary>
    private ref struct Reader
    {
        private readonly GgufFile _file;

        public Reader(GgufFile file)
        {
            _file = file;
            Position = 0;
        }

        public long Position { get; private set; }

        public byte U8() => *Take(1);

        public ushort U16() => System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(Take(2), 2));

        public uint U32() => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(Take(4), 4));

        public ulong U64() => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(Take(8), 8));

        public string String()
        {
            var start = Position;
            var length = U64();
            if (length > (ulong)(_file.FileLength - Position))
            {
                throw _file.Error($"a string claims to be {length} bytes long, past the end of the file.", start, "The file is damaged or truncated: download or convert it again.");
            }

            if (length > int.MaxValue)
            {
                throw _file.Error($"a string of {length} bytes is too long.", start, "The file is damaged: convert it again.");
            }

            var bytes = Take((long)length);
            try
            {
                return Utf8Strict.GetString(bytes, (int)length);
            }
            catch (System.Text.DecoderFallbackException)
            {
                throw _file.Error("a string is not valid UTF-8.", start + 8, "The file is damaged: convert it again.");
            }
        }

        private byte* Take(long count)
        {
            if (count > _file.FileLength - Position)
            {
                throw _file.Error($"the file ends in the middle of the header (needed {count} more bytes).", Position, "The file is truncated: download or convert it again.");
            }

            var p = _file._base + Position;
            Position += count;
            return p;
        }
    }

    private static readonly System.Text.UTF8Encoding Utf8Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
