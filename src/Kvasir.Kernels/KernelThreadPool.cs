using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Kvasir.Kernels;

/// <summary>
/// A fixed set of worker threads for data-parallel kernels, in ggml's style: the threads are created once;
/// a job is split into chunks that the workers and the calling thread claim by compare-exchange;
/// <see cref="Run{TWork}(int, in TWork)"/> returns once every chunk has finished (the barrier between
/// dependent phases). The barrier waits only for chunks that were claimed: on a shared machine a worker
/// that the OS has descheduled costs its share of the parallelism, not a stall of the caller. A call
/// allocates nothing and takes no lock while the workers are spinning.
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

    // The current job. Written only by the thread that holds _busy, before the job is posted in _state,
    // and read by the workers after they see the new generation there; a worker that reads a later job's
    // fields by mistake fails to claim a chunk (the generation in _state no longer matches) and runs nothing.
    private delegate*<void*, int, void> _body;
    private void* _work;
    private int _chunkCount;

    // The job's generation (high 32 bits) and its next unclaimed chunk (low 32 bits; int.MaxValue once the
    // job is over), claimed by compare-exchange, so a claim only ever takes a chunk of the job whose fields
    // the claimer read.
    private long _state;
    private int _completedChunks;
    private int _sleepers;
    private int _busy;
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _failure;

    /// <summary>Creates a pool that runs jobs on <paramref name="threadCount"/> threads, the caller included.</summary>
    /// <param name="threadCount">Threads per job including the calling thread (at least 1).</param>
    public KernelThreadPool(int threadCount)
        : this(threadCount, 0)
    {
    }

    /// <summary>A pool whose job generations start after <paramref name="generation"/> (tests: the 32-bit wrap).</summary>
    internal KernelThreadPool(int threadCount, int generation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ThreadCount = threadCount;
        _state = Pack(generation, int.MaxValue);
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
            Volatile.Write(ref _completedChunks, 0);

            // Post the job (a full fence); take the lock only to wake workers that went to sleep. A worker
            // counts itself in _sleepers (under the lock) before it re-checks the generation and waits, so
            // with both sides using full fences either it sees the new job or this call sees it asleep.
            int generation = unchecked(GenerationOf(Volatile.Read(ref _state)) + 1);
            Interlocked.Exchange(ref _state, Pack(generation, 0));
            if (Volatile.Read(ref _sleepers) != 0)
            {
                lock (_sleepLock)
                {
                    Monitor.PulseAll(_sleepLock);
                }
            }

            RunChunks(generation);

            // Barrier: wait only for chunks a worker claimed and is still running. A worker that has not
            // woken yet claims nothing late, so a descheduled thread costs parallelism, not a stall.
            var spinner = default(SpinWait);
            while (Volatile.Read(ref _completedChunks) != chunkCount)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            // Close the job before its fields change, so that a late worker cannot claim past its end.
            Volatile.Write(ref _state, Pack(generation, int.MaxValue));
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

    /// <summary>Claims and runs chunks of job <paramref name="generation"/> until none are left (or the job is over).</summary>
    private void RunChunks(int generation)
    {
        while (true)
        {
            // The state first, then the job's fields: fields read after seeing this generation belong to it
            // or to a later job, and a later job means the compare-exchange below fails.
            long state = Volatile.Read(ref _state);
            if (GenerationOf(state) != generation)
            {
                return;
            }

            var body = _body;
            void* work = _work;
            int chunk = (int)state;
            if (chunk >= _chunkCount)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state)
            {
                continue;
            }

            try
            {
                body(work, chunk);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(ex), null);
            }

            Interlocked.Increment(ref _completedChunks);
        }
    }

    private void WorkerLoop()
    {
        int seen = GenerationOf(Volatile.Read(ref _state));
        while (true)
        {
            // Spin a little: the next job usually follows within microseconds.
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            while (GenerationOf(Volatile.Read(ref _state)) == seen && !_disposed && Stopwatch.GetTimestamp() < deadline)
            {
                Thread.SpinWait(20);
            }

            if (GenerationOf(Volatile.Read(ref _state)) == seen && !_disposed)
            {
                lock (_sleepLock)
                {
                    Interlocked.Increment(ref _sleepers);
                    while (GenerationOf(Volatile.Read(ref _state)) == seen && !_disposed)
                    {
                        Monitor.Wait(_sleepLock);
                    }

                    Interlocked.Decrement(ref _sleepers);
                }
            }

            int generation = GenerationOf(Volatile.Read(ref _state));
            if (generation == seen)
            {
                return; // disposed, and no job was posted
            }

            seen = generation;
            RunChunks(generation);
        }
    }

    // The state word: a job's generation (wrapping 32 bits) above its next unclaimed chunk.
    private static long Pack(int generation, int chunk) => (long)(((ulong)(uint)generation << 32) | (uint)chunk);

    private static int GenerationOf(long state) => (int)(state >> 32);
}
