namespace Kvasir.Kernels.Attention;

/// <summary>
/// One layer's slice of the paged KV arena, as raw pointers and shape. K and V are split into the same
/// (block, kv head) tiles; inside a tile, V is stored by token and K by dimension (transposed):
/// <code>
///  K (and V), element type DataType:
///
///  block 0                          block 1                      ...  block NumBlocks-1
///  ┌───────────────────────────────┬───────────────────────────────┬─────┬──────────┐
///  │ kv head 0 │ kv head 1 │ ...   │ kv head 0 │ kv head 1 │ ...   │ ... │          │
///  └─────┬─────┴───────────┴───────┴───────────┴───────────┴───────┴─────┴──────────┘
///        │
///        ▼  one (block, kv head) tile: BlockSize · HeadDim contiguous elements
///  V tile: BlockSize token rows                K tile: HeadDim dimension rows
///  ┌──────────────────────────────┐            ┌──────────────────────────────────┐
///  │ offset 0:  v0 v1 ... v(HD-1) │            │ dim 0:  k(o=0) k(o=1) ... k(BS-1) │
///  │ offset 1:  v0 v1 ... v(HD-1) │            │ dim 1:  k(o=0) k(o=1) ... k(BS-1) │
///  │ ...                          │            │ ...                               │
///  │ offset BlockSize-1           │            │ dim HeadDim-1                     │
///  └──────────────────────────────┘            └──────────────────────────────────┘
///
///  tile(b, h)              = (b · NumKvHeads + h) · BlockSize · HeadDim          (element index)
///  V (b, h, offset o, dim d) = tile(b, h) + o · HeadDim + d
///  K (b, h, offset o, dim d) = tile(b, h) + d · BlockSize + o
///
///  slot = blockId · BlockSize + offsetInBlock         (where WriteKv stores one token)
///  token j of a sequence lives in block blockTable[j / BlockSize] at offset j % BlockSize
/// </code>
/// A head's tokens within a block are contiguous, so attention streams BlockSize · HeadDim elements per
/// block and head. Keys are stored transposed because the scores want, for one dimension, that element of
/// several keys side by side (one vector of keys per query element, no horizontal sums); values are
/// summed a token row at a time. Block ids are plain indices, meaningful in any arena with this layout.
/// </summary>
public readonly unsafe struct KvLayerView
{
    /// <summary>Keys: [NumBlocks][NumKvHeads][HeadDim][BlockSize] elements of <see cref="DataType"/> (each tile transposed).</summary>
    public readonly byte* K;

    /// <summary>Values: [NumBlocks][NumKvHeads][BlockSize][HeadDim] elements of <see cref="DataType"/>.</summary>
    public readonly byte* V;

    /// <summary>Element type of <see cref="K"/> and <see cref="V"/>.</summary>
    public readonly KvDataType DataType;

    /// <summary>Blocks in the arena (valid block ids are 0 .. NumBlocks-1).</summary>
    public readonly int NumBlocks;

    /// <summary>Token slots per block.</summary>
    public readonly int BlockSize;

    /// <summary>Key/value heads.</summary>
    public readonly int NumKvHeads;

    /// <summary>Elements per head.</summary>
    public readonly int HeadDim;

    /// <summary>Describes a layer's K and V regions; both must hold <see cref="BytesPerBlock(KvDataType, int, int, int)"/> · numBlocks bytes.</summary>
    /// <param name="k">Start of the layer's keys.</param>
    /// <param name="v">Start of the layer's values.</param>
    /// <param name="dataType">Element type.</param>
    /// <param name="numBlocks">Blocks in the arena.</param>
    /// <param name="blockSize">Token slots per block.</param>
    /// <param name="numKvHeads">Key/value heads.</param>
    /// <param name="headDim">Elements per head.</param>
    /// <exception cref="ArgumentException">A null pointer or a non-positive size.</exception>
    public KvLayerView(byte* k, byte* v, KvDataType dataType, int numBlocks, int blockSize, int numKvHeads, int headDim)
    {
        if (k == null || v == null)
        {
            throw new ArgumentException("K and V must point at the layer's regions of the KV arena.", k == null ? nameof(k) : nameof(v));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numBlocks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numKvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDim);
        if (dataType is not (KvDataType.F32 or KvDataType.F16))
        {
            throw new ArgumentException($"Unknown KV data type {dataType}.", nameof(dataType));
        }

        K = k;
        V = v;
        DataType = dataType;
        NumBlocks = numBlocks;
        BlockSize = blockSize;
        NumKvHeads = numKvHeads;
        HeadDim = headDim;
    }

    /// <summary>Bytes per element of <see cref="DataType"/>.</summary>
    public int ElementBytes => ElementBytesOf(DataType);

    /// <summary>Token slots in the arena (<c>NumBlocks · BlockSize</c>).</summary>
    public long NumSlots => (long)NumBlocks * BlockSize;

    /// <summary>Bytes of one block of K (the same for V): <c>NumKvHeads · BlockSize · HeadDim · ElementBytes</c>.</summary>
    /// <param name="dataType">Element type.</param>
    /// <param name="blockSize">Token slots per block.</param>
    /// <param name="numKvHeads">Key/value heads.</param>
    /// <param name="headDim">Elements per head.</param>
    public static long BytesPerBlock(KvDataType dataType, int blockSize, int numKvHeads, int headDim) =>
        (long)numKvHeads * blockSize * headDim * ElementBytesOf(dataType);

    /// <summary>Address of the (block, head) tile in <paramref name="basePtr"/> (K or V: their tiles are the same size).</summary>
    internal byte* HeadTile(byte* basePtr, int blockId, int kvHead) =>
        basePtr + ((((long)blockId * NumKvHeads) + kvHead) * BlockSize * HeadDim * ElementBytes);

    private static int ElementBytesOf(KvDataType dataType) => dataType == KvDataType.F16 ? sizeof(ushort) : sizeof(float);
}
