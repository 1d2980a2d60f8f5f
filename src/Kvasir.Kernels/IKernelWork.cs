namespace Kvasir.Kernels;

/// <summary>
/// A parallel kernel for <see cref="KernelThreadPool.Run{TWork}(int, in TWork)"/>: a plain struct of
/// pointers and sizes (unmanaged, so that worker threads can read it through a pointer without the GC
/// knowing) whose chunks are independent.
/// </summary>
public interface IKernelWork
{
    /// <summary>Runs chunk <paramref name="chunkIndex"/> (0 ≤ index &lt; the chunk count passed to Run).</summary>
    void Execute(int chunkIndex);
}
