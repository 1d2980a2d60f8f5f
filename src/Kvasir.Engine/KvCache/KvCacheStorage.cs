using System.Runtime.InteropServices;
using Kvasir.Kernels.Attention;
using Kvasir.Model;

namespace Kvasir.Engine.KvCache;

/// <summary>
/// The KV arena: one 64-byte-aligned native allocation holding every layer's keys and values, split into
/// fixed blocks of <see cref="BlockSize"/> tokens. Block ids are plain indices that mean the same in
/// every layer, so the bookkeeping in Kvasir.Core never sees memory.
/// </summary>
/// <remarks>
/// <code>
/// arena = layer 0 K | layer 0 V | layer 1 K | layer 1 V | ...
/// each K (or V) region: [NumBlocks][NumKvHeads] tiles of BlockSize × HeadDim elements (F32 or F16;
///                        V tiles by token, K tiles transposed: see KvLayerView)
/// bytesPerBlock = 2 (K and V) × layers × NumKvHeads × BlockSize × HeadDim × elementBytes
/// </code>
/// </remarks>
public sealed unsafe class KvCacheStorage : IDisposable
{
    private readonly byte* _arena;
    private readonly KvLayerView[] _layers;
    private readonly long _regionBytes;   // bytes of one layer's K (or V) region
    private readonly int _blockBytesPerRegion;
    private bool _disposed;

    /// <summary>Allocates an arena of <paramref name="numBlocks"/> blocks for a model.</summary>
    public KvCacheStorage(ModelConfig config, int numBlocks, int blockSize = 16, KvDataType dataType = KvDataType.F16)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(numBlocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        Config = config;
        NumBlocks = numBlocks;
        BlockSize = blockSize;
        DataType = dataType;
        _blockBytesPerRegion = config.HeadCountKv * blockSize * config.HeadDim * ElementBytes(dataType);
        _regionBytes = (long)_blockBytesPerRegion * numBlocks;
        TotalBytes = _regionBytes * 2 * config.BlockCount;
        // Not cleared: a slot is always written before attention reads it, and untouched pages cost no RAM.
        _arena = (byte*)NativeMemory.AlignedAlloc((nuint)TotalBytes, 64);
        _layers = new KvLayerView[config.BlockCount];
        for (var l = 0; l < config.BlockCount; l++)
        {
            var k = _arena + (2L * l * _regionBytes);
            _layers[l] = new KvLayerView(k, k + _regionBytes, dataType, numBlocks, blockSize, config.HeadCountKv, config.HeadDim);
        }
    }

    /// <summary>The model the arena is laid out for.</summary>
    public ModelConfig Config { get; }

    /// <summary>Number of blocks.</summary>
    public int NumBlocks { get; }

    /// <summary>Tokens per block.</summary>
    public int BlockSize { get; }

    /// <summary>Element type of stored K and V.</summary>
    public KvDataType DataType { get; }

    /// <summary>Size of the arena in bytes.</summary>
    public long TotalBytes { get; }

    /// <summary>Tokens the arena can hold.</summary>
    public long TotalTokens => (long)NumBlocks * BlockSize;

    /// <summary>One view per layer, for the forward pass.</summary>
    public ReadOnlySpan<KvLayerView> Layers => _layers;

    /// <summary>Bytes one block takes across all layers (K and V).</summary>
    public static long BytesPerBlock(ModelConfig config, int blockSize, KvDataType dataType)
        => 2L * config.BlockCount * config.HeadCountKv * blockSize * config.HeadDim * ElementBytes(dataType);

    /// <summary>How many blocks fit in a memory budget.</summary>
    public static int BlocksForBudget(ModelConfig config, long bytes, int blockSize, KvDataType dataType)
        => (int)Math.Min(int.MaxValue, bytes / BytesPerBlock(config, blockSize, dataType));

    /// <summary>Copies one block's K and V in every layer (copy-on-write).</summary>
    public void CopyBlock(int source, int destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)source >= (uint)NumBlocks || (uint)destination >= (uint)NumBlocks)
        {
            throw new ArgumentOutOfRangeException(nameof(source), $"Block ids must be in 0..{NumBlocks - 1}; got {source} → {destination}.");
        }

        for (var l = 0; l < _layers.Length; l++)
        {
            var k = _arena + (2L * l * _regionBytes);
            CopyWithin(k, source, destination);
            CopyWithin(k + _regionBytes, source, destination);
        }
    }

    private void CopyWithin(byte* region, int source, int destination)
        => Buffer.MemoryCopy(region + ((long)source * _blockBytesPerRegion), region + ((long)destination * _blockBytesPerRegion), _blockBytesPerRegion, _blockBytesPerRegion);

    /// <summary>Frees the arena.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            NativeMemory.AlignedFree(_arena);
        }
    }

    private static int ElementBytes(KvDataType type) => type == KvDataType.F16 ? 2 : 4;
}
