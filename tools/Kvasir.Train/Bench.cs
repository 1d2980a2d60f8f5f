using System.Diagnostics;

namespace Kvasir.Train;

/// <summary>`kvasir-train bench`: times the GEMM shapes of a training step (GFLOP/s).</summary>
internal static class Bench
{
    public static void Run()
    {
        var rng = new Random(1);
        foreach (var (m, n, k, ars, acs) in new[] { (4096, 704, 256, 256, 1), (4096, 256, 704, 704, 1), (704, 256, 4096, 1, 704), (4096, 2048, 256, 256, 1), (2048, 256, 4096, 1, 2048) })
        {
            var a = new float[m * k];
            var b = new float[k * n];
            var c = new float[m * n];
            for (var i = 0; i < a.Length; i++)
            {
                a[i] = (float)rng.NextDouble();
            }

            for (var i = 0; i < b.Length; i++)
            {
                b[i] = (float)rng.NextDouble();
            }

            Gemm.Multiply(a, ars, acs, b, n, c, n, m, n, k, false);
            var sw = Stopwatch.StartNew();
            const int Reps = 3;
            for (var r = 0; r < Reps; r++)
            {
                Gemm.Multiply(a, ars, acs, b, n, c, n, m, n, k, false);
            }

            var gflops = 2.0 * m * n * k * Reps / sw.Elapsed.TotalSeconds / 1e9;
            Console.WriteLine($"M {m} N {n} K {k} strides ({ars},{acs}): {gflops:F1} GFLOP/s");
        }
    }
}
