using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels;

/// <summary>
/// The tokens of an integer GEMM (<see cref="Q8_0Gemm"/>, <see cref="KQuantGemm"/>) quantized to Q8_0 and packed in
/// groups of 16, as a pool job: chunk c takes a range of blocks of 32 columns of every token, so the threads write
/// disjoint parts of both layouts.
/// </summary>
/// <remarks>
/// On one thread this preparation was 3 % of the CPU time of a 16-sequence decode step of L Q4_K_M (perf; the
/// other thread spun meanwhile), that is 6–7 % of the step's wall time.
/// </remarks>
internal readonly unsafe struct Int8GemmTokensWork : IKernelWork
{
    private readonly float* _x;          // [n, cols] the tokens
    private readonly int _n;
    private readonly int _cols;
    private readonly byte* _quantized;   // [n] rows of Q8_0Activations.RowBytes(blocks) bytes
    private readonly long _rowBytes;
    private readonly byte* _packed;      // the GEMM's packed layout (KQuantGemm.PackedBytes or Q8_0Gemm.PackedBytes)
    private readonly bool _kQuant;       // KQuantGemm's layout, else Q8_0Gemm's with _offset
    private readonly int _offset;
    private readonly int _blocksPerChunk;

    public Int8GemmTokensWork(float* x, int n, int cols, byte* quantized, long rowBytes, byte* packed, bool kQuant, int offset, int chunks)
    {
        _x = x;
        _n = n;
        _cols = cols;
        _quantized = quantized;
        _rowBytes = rowBytes;
        _packed = packed;
        _kQuant = kQuant;
        _offset = offset;
        int blocks = cols / BlockQ8_0.BlockSize;
        _blocksPerChunk = (blocks + chunks - 1) / chunks;
        ChunkCount = (blocks + _blocksPerChunk - 1) / _blocksPerChunk;
    }

    /// <summary>Chunks of at least one block each (at most the count asked for).</summary>
    public int ChunkCount { get; }

    public void Execute(int chunkIndex)
    {
        int blocks = _cols / BlockQ8_0.BlockSize;
        int first = chunkIndex * _blocksPerChunk;
        int end = Math.Min(blocks, first + _blocksPerChunk);
        for (int t = 0; t < _n; t++)
        {
            Q8_0Activations.QuantizeBlocks(
                new ReadOnlySpan<float>(_x + ((long)t * _cols), _cols), new Span<byte>(_quantized + (t * _rowBytes), (int)_rowBytes), first, end);
        }

        if (_kQuant)
        {
            KQuantGemm.Pack(_quantized, _rowBytes, _n, blocks, _packed, first, end);
        }
        else
        {
            Q8_0Gemm.Pack(_quantized, _rowBytes, _n, blocks, _offset, _packed, first, end);
        }
    }
}
