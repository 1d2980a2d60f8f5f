using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Benchmarks;

/// <summary>Measures the machine's limits in the same run: memory read bandwidth, FMA and int8 multiply-add throughput.</summary>
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

    /// <summary>
    /// Int8 operations per second (a multiply and an add per u8 × s8 product, as FLOP count them for floats) of the
    /// fastest register-blocked integer multiply-add loop .NET reaches on this machine, on all threads: <c>vpmaddubsw</c>
    /// on zmm with <c>vpaddw</c> (AVX-512BW), <c>vpdpbusd</c> on ymm (AVX-VNNI; .NET 10 has no 512-bit form of it) or
    /// <c>vpmaddubsw</c> on ymm (AVX2), whichever is fastest; 0 where the machine has none of them. This is the compute
    /// limit of products whose weights are quantized (both engines multiply them in int8).
    /// </summary>
    /// <remarks>
    /// Zen 5 (two cores, ~3.2 GHz): about 0.55–0.6 cycles per <c>vpmaddubsw</c> zmm with its add, so 1.3–1.5 T int8
    /// ops/s against 0.8 T for <c>vpdpbusd</c> ymm, and about 3.5× the FMA loop's fp32 FLOP/s.
    /// </remarks>
    public static double Int8Peak(int threads)
    {
        var best = 0.0;
        if (Avx512BW.IsSupported)
        {
            best = Math.Max(best, Int8Loop(threads, 10 * 64, MaddubswZmm));
        }

        if (AvxVnni.IsSupported)
        {
            best = Math.Max(best, Int8Loop(threads, 10 * 32, VnniYmm));
        }

        if (Avx2.IsSupported)
        {
            best = Math.Max(best, Int8Loop(threads, 8 * 32, MaddubswYmm));
        }

        return best;
    }

    // Best of three passes of `loop` (`productsPerIteration` u8 × s8 multiply-adds per iteration) on all threads.
    private static double Int8Loop(int threads, int productsPerIteration, Func<long, int> loop)
    {
        const long iterations = 40_000_000;
        var best = 0.0;
        for (var pass = 0; pass < 3; pass++)
        {
            var watch = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => IntSink = loop(iterations));
            best = Math.Max(best, threads * iterations * 2.0 * productsPerIteration / watch.Elapsed.TotalSeconds);
        }

        return best;
    }

    // Ten independent vpaddw chains, each fed by its own vpmaddubsw (ten distinct products, so none is shared): enough
    // to cover the latency on two pipes. The two byte adds that change the weights per iteration take ~10 % of the
    // issue slots, so this is a slight underestimate of the peak.
    private static int MaddubswZmm(long iterations)
    {
        var w = Vector512.Create((byte)3);
        var v = Vector512.Create((byte)5);
        var x0 = Vector512.Create((sbyte)-2);
        var x1 = Vector512.Create((sbyte)3);
        var x2 = Vector512.Create((sbyte)-4);
        var x3 = Vector512.Create((sbyte)5);
        var x4 = Vector512.Create((sbyte)-6);
        Vector512<short> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default, a9 = default;
        for (long i = 0; i < iterations; i++)
        {
            a0 += Avx512BW.MultiplyAddAdjacent(w, x0);
            a1 += Avx512BW.MultiplyAddAdjacent(w, x1);
            a2 += Avx512BW.MultiplyAddAdjacent(w, x2);
            a3 += Avx512BW.MultiplyAddAdjacent(w, x3);
            a4 += Avx512BW.MultiplyAddAdjacent(w, x4);
            a5 += Avx512BW.MultiplyAddAdjacent(v, x0);
            a6 += Avx512BW.MultiplyAddAdjacent(v, x1);
            a7 += Avx512BW.MultiplyAddAdjacent(v, x2);
            a8 += Avx512BW.MultiplyAddAdjacent(v, x3);
            a9 += Avx512BW.MultiplyAddAdjacent(v, x4);
            w += Vector512<byte>.One; // carried from iteration to iteration, so the products cannot be hoisted
            v += Vector512<byte>.One;
        }

        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9);
    }

    private static int VnniYmm(long iterations)
    {
        var w = Vector256.Create((byte)3);
        var x = Vector256.Create((sbyte)-2);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default, a9 = default;
        for (long i = 0; i < iterations; i++)
        {
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, w, x);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, w, x);
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, w, x);
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, w, x);
            a4 = AvxVnni.MultiplyWideningAndAdd(a4, w, x);
            a5 = AvxVnni.MultiplyWideningAndAdd(a5, w, x);
            a6 = AvxVnni.MultiplyWideningAndAdd(a6, w, x);
            a7 = AvxVnni.MultiplyWideningAndAdd(a7, w, x);
            a8 = AvxVnni.MultiplyWideningAndAdd(a8, w, x);
            a9 = AvxVnni.MultiplyWideningAndAdd(a9, w, x);
        }

        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9);
    }

    // Eight chains and eight distinct products: AVX2 machines have 16 ymm registers.
    private static int MaddubswYmm(long iterations)
    {
        var w = Vector256.Create((byte)3);
        var v = Vector256.Create((byte)5);
        var x0 = Vector256.Create((sbyte)-2);
        var x1 = Vector256.Create((sbyte)3);
        var x2 = Vector256.Create((sbyte)-4);
        var x3 = Vector256.Create((sbyte)5);
        Vector256<short> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (long i = 0; i < iterations; i++)
        {
            a0 += Avx2.MultiplyAddAdjacent(w, x0);
            a1 += Avx2.MultiplyAddAdjacent(w, x1);
            a2 += Avx2.MultiplyAddAdjacent(w, x2);
            a3 += Avx2.MultiplyAddAdjacent(w, x3);
            a4 += Avx2.MultiplyAddAdjacent(v, x0);
            a5 += Avx2.MultiplyAddAdjacent(v, x1);
            a6 += Avx2.MultiplyAddAdjacent(v, x2);
            a7 += Avx2.MultiplyAddAdjacent(v, x3);
            w += Vector256<byte>.One;
            v += Vector256<byte>.One;
        }

        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }

    /// <summary>Results land here so the loops are not optimised away; read by the caller for good measure.</summary>
    public static float Sink { get; private set; }

    /// <summary>The int8 loops' results, kept so the loops are not optimised away.</summary>
    public static int IntSink { get; private set; }
}
