namespace Kvasir.Cli.Bench;

/// <summary>
/// When each request is sent, in seconds from the start of the run: all at once (rate infinite), gaps drawn from a
/// gamma distribution with mean 1 / rate and shape <c>burstiness</c> (1 is a Poisson process; below 1 burstier, above
/// more regular), or a trace's own timestamps multiplied by a time scale.
/// </summary>
public static class ArrivalSchedule
{
    /// <summary>Send offsets for <paramref name="count"/> requests at <paramref name="requestRate"/> per second.</summary>
    public static double[] Gamma(int count, double requestRate, double burstiness, int seed)
    {
        if (!(burstiness > 0))
        {
            throw new CliException($"--burstiness must be positive (1.0 is Poisson), not {burstiness}.");
        }

        var offsets = new double[count];
        if (double.IsPositiveInfinity(requestRate))
        {
            return offsets;
        }

        if (!(requestRate > 0))
        {
            throw new CliException($"--request-rate must be positive or inf, not {requestRate}.");
        }

        var random = new Random(seed);
        var scale = 1.0 / (requestRate * burstiness);
        var t = 0.0;
        for (var i = 0; i < count; i++)
        {
            // The first request goes out at once; each later one after a gamma-distributed gap.
            if (i > 0)
            {
                t += SampleGamma(random, burstiness) * scale;
            }

            offsets[i] = t;
        }

        return offsets;
    }

    /// <summary>Send offsets taken from the requests' trace timestamps × <paramref name="timeScale"/>.</summary>
    public static double[] Trace(IReadOnlyList<BenchRequest> requests, double timeScale)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (!(timeScale >= 0))
        {
            throw new CliException($"--time-scale must be 0 or more, not {timeScale}.");
        }

        var offsets = new double[requests.Count];
        for (var i = 0; i < offsets.Length; i++)
        {
            offsets[i] = (requests[i].ArrivalSeconds ?? 0) * timeScale;
        }

        return offsets;
    }

    /// <summary>A Gamma(shape, 1) sample (Marsaglia and Tsang; shapes below 1 through the boost U^(1/shape)).</summary>
    public static double SampleGamma(Random random, double shape)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (shape < 1)
        {
            var u = 1.0 - random.NextDouble();
            return SampleGamma(random, shape + 1) * Math.Pow(u, 1.0 / shape);
        }

        var d = shape - 1.0 / 3.0;
        var c = 1.0 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = SampleNormal(random);
                v = 1 + c * x;
            }
            while (v <= 0);

            v = v * v * v;
            var u = 1.0 - random.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v))
            {
                return d * v;
            }
        }
    }

    private static double SampleNormal(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
