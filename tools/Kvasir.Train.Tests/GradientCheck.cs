namespace Kvasir.Train.Tests;

/// <summary>
/// Central finite differences against analytic gradients. The loss of an op is <c>Σ output · r</c> for a fixed
/// random r, so its analytic input gradient is the op's backward pass given dOutput = r.
/// </summary>
internal static class GradientCheck
{
    /// <summary>Relative L2 error between analytic and numeric gradients over the whole vector, in float32 arithmetic.</summary>
    public const double Tolerance = 1e-2;

    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        }

        return x;
    }

    public static double Dot(float[] a, float[] b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++)
        {
            s += (double)a[i] * b[i];
        }

        return s;
    }

    /// <summary>Up to <paramref name="count"/> distinct indices below <paramref name="length"/>, seeded (checking a sample keeps the tests fast).</summary>
    public static int[] Sample(int length, int count, int seed)
    {
        if (length <= count)
        {
            return [.. Enumerable.Range(0, length)];
        }

        var rng = new Random(seed);
        var set = new SortedSet<int>();
        while (set.Count < count)
        {
            set.Add(rng.Next(length));
        }

        return [.. set];
    }

    /// <summary>Numeric gradient of <paramref name="loss"/> with respect to x at the given indices (all when null).</summary>
    public static double[] Numeric(float[] x, Func<double> loss, IReadOnlyList<int>? indices = null, float eps = 1e-3f)
    {
        indices ??= Enumerable.Range(0, x.Length).ToArray();
        var g = new double[indices.Count];
        for (var n = 0; n < indices.Count; n++)
        {
            var i = indices[n];
            var keep = x[i];
            x[i] = keep + eps;
            var plus = loss();
            x[i] = keep - eps;
            var minus = loss();
            x[i] = keep;
            g[n] = (plus - minus) / (2 * eps);
        }

        return g;
    }

    /// <summary>‖analytic − numeric‖ / ‖numeric‖ over the indices.</summary>
    public static double RelativeError(ReadOnlySpan<float> analytic, double[] numeric, IReadOnlyList<int>? indices = null)
    {
        double diff = 0, norm = 0;
        for (var n = 0; n < numeric.Length; n++)
        {
            var a = analytic[indices is null ? n : indices[n]];
            diff += (a - numeric[n]) * (a - numeric[n]);
            norm += numeric[n] * numeric[n];
        }

        Assert.True(norm > 1e-12, "The numeric gradient is zero: the check would test nothing.");
        return Math.Sqrt(diff / norm);
    }

    public static void AssertClose(ReadOnlySpan<float> analytic, double[] numeric, string what, IReadOnlyList<int>? indices = null)
    {
        var error = RelativeError(analytic, numeric, indices);
        Assert.True(error < Tolerance, $"{what}: relative gradient error {error:E2} ≥ {Tolerance:E0}");
    }
}
