using System.Globalization;

namespace Kvasir.Cli.Bench;

/// <summary>Parses `--goodput ttft:MS tpot:MS e2el:MS` and `--percentiles 50,90,99`.</summary>
public static class SloParser
{
    /// <summary>Metric → milliseconds; only ttft, tpot and e2el are accepted.</summary>
    public static Dictionary<string, double> ParseGoodput(IEnumerable<string> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var slos = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var parts = item.Split(':');
            var name = parts[0].Trim().ToLowerInvariant();
            if (parts.Length != 2 || name is not ("ttft" or "tpot" or "e2el")
                || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) || !(ms > 0))
            {
                throw new CliException($"--goodput '{item}' is not METRIC:MS with METRIC ttft, tpot or e2el and MS positive (for example ttft:500 tpot:50).");
            }

            slos[name] = ms;
        }

        return slos;
    }

    /// <summary>Comma-separated percentiles in (0, 100].</summary>
    public static double[] ParsePercentiles(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = new double[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            if (!double.TryParse(items[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]) || !(result[i] > 0 && result[i] <= 100))
            {
                throw new CliException($"--percentiles '{text}': each percentile must be a number in (0, 100], for example 50,90,99.");
            }
        }

        return result;
    }

    /// <summary>A request rate: a positive number or inf.</summary>
    public static double ParseRate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Trim().Equals("inf", StringComparison.OrdinalIgnoreCase))
        {
            return double.PositiveInfinity;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate > 0
            ? rate
            : throw new CliException($"--request-rate '{text}' must be a positive number of requests per second or inf.");
    }
}
