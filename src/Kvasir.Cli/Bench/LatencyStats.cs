namespace Kvasir.Cli.Bench;

/// <summary>Mean, median, population standard deviation and percentiles (linear interpolation, numpy's default).</summary>
public static class LatencyStats
{
    /// <summary>The mean, or 0 for no values.</summary>
    public static double Mean(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return 0;
        }

        var sum = 0.0;
        for (var i = 0; i < values.Count; i++)
        {
            sum += values[i];
        }

        return sum / values.Count;
    }

    /// <summary>The population standard deviation (ddof 0), or 0 for no values.</summary>
    public static double Std(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return 0;
        }

        var mean = Mean(values);
        var sum = 0.0;
        for (var i = 0; i < values.Count; i++)
        {
            sum += (values[i] - mean) * (values[i] - mean);
        }

        return Math.Sqrt(sum / values.Count);
    }

    /// <summary>The p-th percentile (0..100) of <paramref name="sorted"/> (ascending), or 0 for no values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return 0;
        }

        var rank = p / 100.0 * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + (rank - low) * (sorted[high] - sorted[low]);
    }

    /// <summary>vLLM's key for a percentile: `p99`, `p99.9`.</summary>
    public static string Key(double p) => p == Math.Floor(p) ? $"p{(int)p}" : "p" + p.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
