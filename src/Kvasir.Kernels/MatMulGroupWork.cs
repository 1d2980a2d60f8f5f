namespace Kvasir.Kernels;

/// <summary>
/// Up to three <see cref="MatMulWork"/> jobs as one pool job (<see cref="MatMul.ComputeGroup(ReadOnlySpan{float}, int, int, KernelThreadPool, MatMulActivations, MatMulProduct, MatMulProduct, MatMulProduct)"/>): chunk c belongs to the
/// first product while c &lt; its chunk count, then to the second, then to the third.
/// </summary>
internal readonly struct MatMulGroupWork : IKernelWork
{
    private readonly MatMulWork _first;
    private readonly MatMulWork _second;
    private readonly MatMulWork _third;
    private readonly int _secondStart;
    private readonly int _thirdStart;

    public MatMulGroupWork(in MatMulWork first, int firstChunks, in MatMulWork second, int secondChunks, in MatMulWork third, int thirdChunks)
    {
        _first = first;
        _second = second;
        _third = third;
        _secondStart = firstChunks;
        _thirdStart = firstChunks + secondChunks;
        ChunkCount = _thirdStart + thirdChunks;
    }

    /// <summary>Chunks of all products together.</summary>
    public int ChunkCount { get; }

    public void Execute(int chunkIndex)
    {
        if (chunkIndex < _secondStart)
        {
            _first.Execute(chunkIndex);
        }
        else if (chunkIndex < _thirdStart)
        {
            _second.Execute(chunkIndex - _secondStart);
        }
        else
        {
            _third.Execute(chunkIndex - _thirdStart);
        }
    }
}
