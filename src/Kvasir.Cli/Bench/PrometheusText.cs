using System.Globalization;

namespace Kvasir.Cli.Bench;

/// <summary>Reads Prometheus text exposition: each metric name's value, summed over its label sets.</summary>
public static class PrometheusText
{
    /// <summary>Metric name → sum of its samples (comments and unparsable lines skipped).</summary>
    public static Dictionary<string, double> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var nameEnd = line.IndexOfAny(['{', ' ']);
            if (nameEnd <= 0)
            {
                continue;
            }

            var name = line[..nameEnd];
            var rest = line[nameEnd..];
            if (rest[0] == '{')
            {
                var close = rest.LastIndexOf('}');
                if (close < 0)
                {
                    continue;
                }

                rest = rest[(close + 1)..];
            }

            var parts = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            values[name] = values.GetValueOrDefault(name) + value;
        }

        return values;
    }
}
