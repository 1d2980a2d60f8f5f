using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Kvasir.Kernels;

/// <summary>
/// A fixed set of worker threads for data-parallel kernels, in ggml's style: the threads are created once;
/// a job is split into chunks that the workers and the calling thread claim with
/// <see cref="Interlocked.Increment(ref int)"/>; <see cref="Run{TWork}(int, in TWork)"/> returns once
/// every chunk has finished (the barrier between dependent phases). A call allocates nothing and takes no
/// lock while the workers are spinning.
/// </summary>
/// <remarks>
/// <para>Workers spin for a short while after a job (decode issues many small matmuls back to back, and a
/// kernel wake-up costs tens of microseconds), then sleep on a monitor until the next job.</para>
/// <para>One job runs at a time. A call made while the pool is busy (another thread's job, or a nested
/// call from inside a chunk) runs all its chunks on the calling thread instead of waiting.</para>
/// </remarks>
public sealed unsafe class KernelThreadPool : IDisposable
{
    /// <summary>How long an idle worker spins before it sleeps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

    private static readonly Lazy<KernelThreadPool> LazyShared = new(() => new KernelThreadPool(Environment.ProcessorCount));

    private readonly Thread[] _workers;
    private readonly object _sleepLock = new();

    // The current job. Written only by the thread that holds _busy, before _generation is bumped, and
    // read by the workers after they see the new generation; never changed while a worker is in a job.
    private delegate*<void*, int, void> _body;
    private void* _work;
    private int _chunkCount;

    private int _nextChunk;
    private int _pendingWorkers;
    private int _generation;
    private int _sleepers;
    private int _busy;
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _failure;

    /// <summary>Creates a pool that runs jobs on <paramref name="threadCount"/> threads, the caller included.</summary>
    /// <param name="threadCount">Threads per job including the calling thread (at least 1).</param>
    public KernelThreadPool(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ThreadCount = threadCount;
        _workers = new Thread[threadCount - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop)
            {
                IsBackground = true,
                Name = $"Kvasir kernel worker {i + 1}",
            };
            _workers[i].Start();
        }
    }

    /// <summary>The process-wide pool, sized to <see cref="Environment.ProcessorCount"/> (created on first use).</summary>
    public static KernelThreadPool Shared => LazyShared.Value;

    /// <summary>Threads that work on a job, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs <c>work.Execute(i)</c> for every i in [0, <paramref name="chunkCount"/>) across the pool and
    /// returns when all have finished. An exception thrown by a chunk is rethrown here (remaining chunks
    /// still run).
    /// </summary>
    /// <typeparam name="TWork">The kernel: an unmanaged struct, read by the workers through a pointer.</typeparam>
    /// <param name="chunkCount">Number of chunks (0 does nothing).</param>
    /// <param name="work">The kernel's parameters; copied onto this call's stack for the job's duration.</param>
    public void Run<TWork>(int chunkCount, in TWork work)
        where TWork : unmanaged, IKernelWork
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunkCount);
        TWork local = work;
        if (chunkCount <= 1 || _workers.Length == 0 || _disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int i = 0; i < chunkCount; i++)
            {
                local.Execute(i);
            }

            return;
        }

        try
        {
            _body = &Invoke<TWork>;
            _work = Unsafe.AsPointer(ref local);
            _chunkCount = chunkCount;
            _failure = null;
            Volatile.Write(ref _nextChunk, 0);
            Volatile.Write(ref _pendingWorkers, _workers.Length);
            // Post the job; take the lock only to wake workers that went to sleep. A worker counts itself in
            // _sleepers (under the lock) before it re-checks the generation and waits, so with both sides
            // using full fences either it sees the new generation or this call sees it asleep.
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleepers) != 0)
            {
                lock (_sleepLock)
                {
                    Monitor.PulseAll(_sleepLock);
                }
            }

            RunChunks();

            // Barrier: wait for the workers to leave the job (they are finishing their last chunk).
            var spinner = default(SpinWait);
            while (Volatile.Read(ref _pendingWorkers) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            _work = null;
            _failure?.Throw();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Stops the workers (after the current job) and waits for them to exit.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        lock (_sleepLock)
        {
            _disposed = true;
            Monitor.PulseAll(_sleepLock);
        }

        foreach (var worker in _workers)
        {
            worker.Join();
        }
    }

    private static void Invoke<TWork>(void* work, int chunk)
        where TWork : unmanaged, IKernelWork =>
        ((TWork*)work)->Execute(chunk);

    /// <summary>Claims and runs chunks until none are left.</summary>
    private void RunChunks()
    {
        var body = _body;
        void* work = _work;
        int count = _chunkCount;
        while (true)
        {
            int chunk = Interlocked.Increment(ref _nextChunk) - 1;
            if (chunk >= count)
            {
                return;
            }

            try
            {
                body(work, chunk);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(ex), null);
            }
        }
    }

    private void WorkerLoop()
    {
        int seen = Volatile.Read(ref _generation);
        while (true)
        {
            // Spin a little: the next job usually follows within microseconds.
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _generation) == seen && !_disposed && Stopwatch.GetTimestamp() < deadline)
            {
                Thread.SpinWait(20);
            }

            if (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                lock (_sleepLock)
                {
                    Interlocked.Increment(ref _sleepers);
                    while (Volatile.Read(ref _generation) == seen && !_disposed)
                    {
                        Monitor.Wait(_sleepLock);
                    }

                    Interlocked.Decrement(ref _sleepers);
                }
            }

            int generation = Volatile.Read(ref _generation);
            if (generation == seen)
            {
                return; // disposed, and no job was posted
            }

            seen = generation;
            RunChunks();
            Interlocked.Decrement(ref _pendingWorkers);
        }
    }
}
