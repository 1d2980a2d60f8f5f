using ScottPlot;

namespace Kvasir.Cli.Bench;

/// <summary>
/// PNG plots of one or two runs (ScottPlot): the CDFs of TTFT, TPOT, ITL and E2EL, output tokens per second over the
/// run, and the server's KV-cache usage over the run.
/// </summary>
public static class BenchPlots
{
    private const int Width = 800;
    private const int Height = 500;

    /// <summary>Writes the plots into <paramref name="directory"/> and returns their paths.</summary>
    /// <param name="directory">Created if missing.</param>
    /// <param name="reports">One run, or A and B.</param>
    /// <param name="labels">A legend label per run.</param>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<BenchReport> reports, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(reports);
        ArgumentNullException.ThrowIfNull(labels);
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        foreach (var metric in BenchReport.LatencyMetrics)
        {
            using var plot = new Plot();
            for (var r = 0; r < reports.Count; r++)
            {
                var values = Latencies(reports[r].Run, metric);
                if (values.Length == 0)
                {
                    continue;
                }

                Array.Sort(values);
                var fraction = new double[values.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    fraction[i] = (i + 1.0) / values.Length;
                }

                plot.Add.ScatterLine(values, fraction).LegendText = labels[r];
            }

            Finish(plot, $"{metric.ToUpperInvariant()} CDF", $"{metric} (ms)", "fraction of requests", reports.Count > 1);
            paths.Add(Save(plot, directory, $"cdf-{metric}.png"));
        }

        using (var plot = new Plot())
        {
            for (var r = 0; r < reports.Count; r++)
            {
                var (t, tokensPerSecond) = Throughput(reports[r].Run);
                if (t.Length > 0)
                {
                    plot.Add.ScatterLine(t, tokensPerSecond).LegendText = labels[r];
                }
            }

            Finish(plot, "Output throughput", "time (s)", "output tokens / s", reports.Count > 1);
            paths.Add(Save(plot, directory, "throughput.png"));
        }

        using (var plot = new Plot())
        {
            for (var r = 0; r < reports.Count; r++)
            {
                var samples = reports[r].Run.MetricSamples;
                if (samples.Count == 0)
                {
                    continue;
                }

                var t = new double[samples.Count];
                var usage = new double[samples.Count];
                for (var i = 0; i < samples.Count; i++)
                {
                    t[i] = samples[i].Seconds;
                    usage[i] = samples[i].KvCacheUsage * 100;
                }

                plot.Add.ScatterLine(t, usage).LegendText = labels[r];
            }

            Finish(plot, "KV cache usage (server /metrics)", "time (s)", "KV cache usage (%)", reports.Count > 1);
            paths.Add(Save(plot, directory, "kv-usage.png"));
        }

        return paths;
    }

    /// <summary>Output tokens per second in 20 buckets over the run, from each request's chunk times.</summary>
    public static (double[] Seconds, double[] TokensPerSecond) Throughput(BenchRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        const int buckets = 20;
        var width = Math.Max(run.Duration, 1e-6) / buckets;
        var tokens = new double[buckets];
        foreach (var o in run.Outcomes)
        {
            if (!o.Success)
            {
                continue;
            }

            // Tokens are spread evenly over the request's text chunks (a chunk may carry several tokens).
            var perChunk = (double)o.OutputTokens / (o.Itls.Length + 1);
            var t = o.StartSeconds + o.Ttft;
            Add(tokens, t, width, perChunk);
            foreach (var gap in o.Itls)
            {
                t += gap;
                Add(tokens, t, width, perChunk);
            }
        }

        var seconds = new double[buckets];
        for (var i = 0; i < buckets; i++)
        {
            seconds[i] = (i + 0.5) * width;
            tokens[i] /= width;
        }

        return (seconds, tokens);
    }

    private static void Add(double[] tokens, double t, double width, double count) =>
        tokens[Math.Clamp((int)(t / width), 0, tokens.Length - 1)] += count;

    private static double[] Latencies(BenchRun run, string metric)
    {
        var values = new List<double>();
        foreach (var o in run.Outcomes)
        {
            if (!o.Success)
            {
                continue;
            }

            switch (metric)
            {
                case "ttft":
                    values.Add(o.Ttft * 1000);
                    break;
                case "tpot" when o.OutputTokens > 1:
                    values.Add(o.Tpot * 1000);
                    break;
                case "itl":
                    foreach (var gap in o.Itls)
                    {
                        values.Add(gap * 1000);
                    }

                    break;
                case "e2el":
                    values.Add(o.Latency * 1000);
                    break;
            }
        }

        return [.. values];
    }

    private static void Finish(Plot plot, string title, string x, string y, bool legend)
    {
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        if (legend)
        {
            plot.ShowLegend();
        }
    }

    private static string Save(Plot plot, string directory, string name)
    {
        var path = Path.Combine(directory, name);
        plot.SavePng(path, Width, Height);
        return path;
    }
}
