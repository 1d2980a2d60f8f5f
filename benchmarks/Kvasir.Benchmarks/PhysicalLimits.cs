using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Benchmarks;

/// <summary>Measures the machine's limits in the same run: memory read bandwidth and FMA throughput.</summary>
internal static unsafe class PhysicalLimits
{
    /// <summary>Bytes per second read by all threads summing a 512 MiB buffer (best of several passes).</summary>
    public static double ReadBandwidth(int threads)
    {
        const long bytes = 512L << 20;
        var buffer = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            new Span<float>(buffer, (int)(bytes / sizeof(float))).Fill(1f);
            var best = 0.0;
            for (var pass = 0; pass < 5; pass++)
            {
                var watch = Stopwatch.StartNew();
                var per = bytes / sizeof(float) / threads;
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    var p = buffer + (t * per);
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (long i = 0; i < per; i += 32)
                    {
                        a0 += Vector256.Load(p + i);
                        a1 += Vector256.Load(p + i + 8);
                        a2 += Vector256.Load(p + i + 16);
                        a3 += Vector256.Load(p + i + 24);
                    }

                    Sink = Vector256.Sum(a0 + a1 + a2 + a3);
                });
                best = Math.Max(best, bytes / watch.Elapsed.TotalSeconds);
            }

            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    /// <summary>
    /// FP32 FLOP/s of a register-blocked FMA loop on all threads (2 FLOP per lane per FMA), at the widest vectors the
    /// machine accelerates (512-bit on AVX-512, where the GEMM runs its Vector512 kernels; else 256-bit).
    /// </summary>
    public static double FmaPeak(int threads) => Vector512.IsHardwareAccelerated ? FmaPeak512(threads) : FmaPeak256(threads);

    private static double FmaPeak256(int threads)
    {
        const long iterations = 50_000_000;
        var best = 0.0;
        for (var pass = 0; pass < 3; pass++)
        {
            var watch = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
            {
                var m = Vector256.Create(0.999f);
                var c = Vector256.Create(0.001f);
                Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                for (long i = 0; i < iterations; i++)
                {
                    a0 = Vector256.FusedMultiplyAdd(a0, m, c);
                    a1 = Vector256.FusedMultiplyAdd(a1, m, c);
                    a2 = Vector256.FusedMultiplyAdd(a2, m, c);
                    a3 = Vector256.FusedMultiplyAdd(a3, m, c);
                    a4 = Vector256.FusedMultiplyAdd(a4, m, c);
                    a5 = Vector256.FusedMultiplyAdd(a5, m, c);
                    a6 = Vector256.FusedMultiplyAdd(a6, m, c);
                    a7 = Vector256.FusedMultiplyAdd(a7, m, c);
                }

                Sink = Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
            });
            best = Math.Max(best, threads * iterations * 8.0 * 8 * 2 / watch.Elapsed.TotalSeconds);
        }

        return best;
    }

    // Ten independent chains: enough to cover the FMA latency on two 512-bit pipes.
    private static double FmaPeak512(int threads)
    {
        const long iterations = 40_000_000;
        var best = 0.0;
        for (var pass = 0; pass < 3; pass++)
        {
            var watch = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
            {
                var m = Vector512.Create(0.999f);
                var c = Vector512.Create(0.001f);
                Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
                for (long i = 0; i < iterations; i++)
                {
                    a0 = Vector512.FusedMultiplyAdd(a0, m, c);
                    a1 = Vector512.FusedMultiplyAdd(a1, m, c);
                    a2 = Vector512.FusedMultiplyAdd(a2, m, c);
                    a3 = Vector512.FusedMultiplyAdd(a3, m, c);
                    a4 = Vector512.FusedMultiplyAdd(a4, m, c);
                    a5 = Vector512.FusedMultiplyAdd(a5, m, c);
                    a6 = Vector512.FusedMultiplyAdd(a6, m, c);
                    a7 = Vector512.FusedMultiplyAdd(a7, m, c);
                    a8 = Vector512.FusedMultiplyAdd(a8, m, c);
                    a9 = Vector512.FusedMultiplyAdd(a9, m, c);
                }

                Sink = Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9);
            });
            best = Math.Max(best, threads * iterations * 10.0 * 16 * 2 / watch.Elapsed.TotalSeconds);
        }

        return best;
    }

    /// <summary>Results land here so the loops are not optimised away; read by the caller for good measure.</summary>
    public static float Sink { get; private set; }
}
