namespace Kvasir.Engine.Metrics;

/// <summary>
/// A thread-safe histogram with fixed upper bounds, in the shape Prometheus exports (cumulative buckets,
/// sum, count). Written by the engine thread, read by the /metrics handler.
/// </summary>
public sealed class LatencyHistogram
{
    private readonly double[] _bounds;
    private readonly long[] _counts;   // per bucket (not cumulative); the last one is +Inf
    private readonly Lock _lock = new();
    private double _sum;
    private long _count;

    /// <summary>Creates a histogram with the given ascending upper bounds.</summary>
    public LatencyHistogram(string name, string description, double[] bounds)
    {
        Name = name;
        Description = description;
        _bounds = bounds;
        _counts = new long[bounds.Length + 1];
    }

    /// <summary>Metric name without prefix, for example "time_to_first_token_seconds".</summary>
    public string Name { get; }

    /// <summary>Help text.</summary>
    public string Description { get; }

    /// <summary>Upper bounds of the buckets (+Inf is implicit).</summary>
    public IReadOnlyList<double> Bounds => _bounds;

    /// <summary>Records one observation.</summary>
    public void Observe(double value)
    {
        var i = Array.BinarySearch(_bounds, value);
        i = i < 0 ? ~i : i;
        lock (_lock)
        {
            _counts[i]++;
            _sum += value;
            _count++;
        }
    }

    /// <summary>Cumulative counts per bound (the last is +Inf), the sum and the count, read consistently.</summary>
    public (long[] Cumulative, double Sum, long Count) Snapshot()
    {
        lock (_lock)
        {
            var cumulative = new long[_counts.Length];
            long running = 0;
            for (var i = 0; i < _counts.Length; i++)
            {
                running += _counts[i];
                cumulative[i] = running;
            }

            return (cumulative, _sum, _count);
        }
    }
}
