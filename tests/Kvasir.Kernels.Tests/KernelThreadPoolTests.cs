using System.Runtime.InteropServices;

namespace Kvasir.Kernels.Tests;

public sealed class KernelThreadPoolTests
{
    [Fact]
    public unsafe void Run_ExecutesEveryChunkExactlyOnce()
    {
        using var pool = new KernelThreadPool(4);
        var counts = new int[1000];
        fixed (int* c = counts)
        {
            for (int round = 0; round < 300; round++)
            {
                int chunks = round % 7 == 0 ? 0 : round % 11 == 0 ? 1 : 1 + (round * 37 % 999);
                Array.Clear(counts);
                pool.Run(chunks, new CountWork(c));
                for (int i = 0; i < counts.Length; i++)
                {
                    Assert.Equal(i < chunks ? 1 : 0, counts[i]);
                }
            }
        }
    }

    [Fact]
    public unsafe void BackToBackJobs_NeverRunAChunkOfTheWrongJob()
    {
        // Small jobs alternate between two targets with different chunk counts, the pattern that lets a worker
        // that wakes late see one job's generation and another's fields: every chunk must land in its own job.
        using var pool = new KernelThreadPool(3);
        var a = new int[8];
        var b = new int[8];
        const int Rounds = 20_000;
        fixed (int* pa = a, pb = b)
        {
            for (int round = 0; round < Rounds; round++)
            {
                if (round % 2 == 0)
                {
                    pool.Run(2, new CountWork(pa));
                }
                else
                {
                    pool.Run(5, new CountWork(pb));
                }
            }
        }

        Assert.Equal([Rounds / 2, Rounds / 2, 0, 0, 0, 0, 0, 0], a);
        Assert.Equal([Rounds / 2, Rounds / 2, Rounds / 2, Rounds / 2, Rounds / 2, 0, 0, 0], b);
    }

    [Fact]
    public unsafe void GenerationsWrapAround()
    {
        // A long-running server posts billions of jobs: the 32-bit generation must wrap without stalling.
        using var pool = new KernelThreadPool(3, int.MaxValue - 3);
        var counts = new int[6];
        fixed (int* c = counts)
        {
            for (int round = 0; round < 10; round++)
            {
                pool.Run(6, new CountWork(c));
            }
        }

        Assert.All(counts, v => Assert.Equal(10, v));
    }

    [Fact]
    public unsafe void Run_RunsChunksConcurrently()
    {
        // Whichever thread claims chunk 0 waits until another thread has started chunk 1: this only
        // finishes if two threads work on the job at once.
        using var pool = new KernelThreadPool(2);
        var flags = new int[2];
        fixed (int* f = flags)
        {
            pool.Run(2, new RendezvousWork(f));
        }

        Assert.Equal([1, 1], flags);
    }

    [Fact]
    public unsafe void Run_RethrowsAChunkException_AfterAllChunksRan()
    {
        using var pool = new KernelThreadPool(3);
        var counts = new int[64];
        fixed (int* c = counts)
        {
            InvalidOperationException? caught = null;
            try
            {
                pool.Run(64, new ThrowingWork(c, 5));
            }
            catch (InvalidOperationException ex)
            {
                caught = ex;
            }

            Assert.NotNull(caught);
            Assert.Contains("chunk 5", caught.Message);
            Assert.All(counts, v => Assert.Equal(1, v));

            // The pool is still usable.
            Array.Clear(counts);
            pool.Run(64, new CountWork(c));
            Assert.All(counts, v => Assert.Equal(1, v));
        }
    }

    [Fact]
    public async Task NestedAndConcurrentRuns_RunInline()
    {
        using var pool = new KernelThreadPool(3);
        var counts = GC.AllocateArray<int>(50 * 10, pinned: true);
        var handle = GCHandle.Alloc(pool);
        try
        {
            var work = NestedWork.Create(GCHandle.ToIntPtr(handle), counts);
            await Task.WhenAll(Task.Run(() => Repeat(pool, work)), Task.Run(() => Repeat(pool, work)));
        }
        finally
        {
            handle.Free();
        }

        Assert.All(counts, v => Assert.Equal(2 * 20, v));

        static void Repeat(KernelThreadPool pool, NestedWork work)
        {
            for (int i = 0; i < 20; i++)
            {
                pool.Run(50, work);
            }
        }
    }

    [Fact]
    public unsafe void DisposedPool_StillRunsOnTheCaller()
    {
        var pool = new KernelThreadPool(2);
        pool.Dispose();
        pool.Dispose();
        var counts = new int[10];
        fixed (int* c = counts)
        {
            pool.Run(10, new CountWork(c));
        }

        Assert.All(counts, v => Assert.Equal(1, v));
    }

    [Fact]
    public void Construction()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KernelThreadPool(0));
        Assert.Equal(Environment.ProcessorCount, KernelThreadPool.Shared.ThreadCount);
        using var pool = new KernelThreadPool(1);
        Assert.Equal(1, pool.ThreadCount);
    }

    private readonly unsafe struct CountWork(int* counts) : IKernelWork
    {
        private readonly int* _counts = counts;

        public void Execute(int chunkIndex) => Interlocked.Increment(ref _counts[chunkIndex]);
    }

    private readonly unsafe struct RendezvousWork(int* flags) : IKernelWork
    {
        private readonly int* _flags = flags;

        public void Execute(int chunkIndex)
        {
            Volatile.Write(ref _flags[chunkIndex], 1);
            if (chunkIndex == 0)
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (Volatile.Read(ref _flags[1]) == 0)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException("No second thread picked up chunk 1.");
                    }

                    Thread.Yield();
                }
            }
        }
    }

    private readonly unsafe struct ThrowingWork(int* counts, int throwAt) : IKernelWork
    {
        private readonly int* _counts = counts;
        private readonly int _throwAt = throwAt;

        public void Execute(int chunkIndex)
        {
            Interlocked.Increment(ref _counts[chunkIndex]);
            if (chunkIndex == _throwAt)
            {
                throw new InvalidOperationException($"chunk {chunkIndex} failed");
            }
        }
    }

    /// <summary>Each chunk runs a nested job of 10 chunks on the same pool.</summary>
    private readonly unsafe struct NestedWork(nint poolHandle, int* counts) : IKernelWork
    {
        private readonly nint _pool = poolHandle;
        private readonly int* _counts = counts;

        /// <summary>Over a pinned array of counts.</summary>
        public static NestedWork Create(nint poolHandle, int[] pinnedCounts) =>
            new(poolHandle, (int*)Marshal.UnsafeAddrOfPinnedArrayElement(pinnedCounts, 0));

        public void Execute(int chunkIndex)
        {
            var pool = (KernelThreadPool)GCHandle.FromIntPtr(_pool).Target!;
            pool.Run(10, new CountWork(_counts + (chunkIndex * 10)));
        }
    }
}
