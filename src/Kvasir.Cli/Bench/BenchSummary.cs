using System.Globalization;

namespace Kvasir.Cli.Bench;

/// <summary>The markdown tables printed on the console.</summary>
public static class BenchSummary
{
    /// <summary>One run's summary table.</summary>
    public static void Write(TextWriter output, BenchReport report, string title)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(report);
        output.WriteLine($"## {title}");
        output.WriteLine();
        output.WriteLine("| metric | value |");
        output.WriteLine("|---|---|");
        foreach (var (key, value) in report.Metrics)
        {
            output.WriteLine($"| {key} | {Format(value)} |");
        }

        output.WriteLine();
        var firstError = report.Run.Outcomes.FirstOrDefault(o => !o.Success)?.Error;
        if (firstError is not null)
        {
            output.WriteLine($"first error: {firstError}");
            output.WriteLine();
        }
    }

    /// <summary>A comparison table: each metric of A and B and the ratio B / A.</summary>
    public static void WriteComparison(TextWriter output, BenchReport a, BenchReport b)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        output.WriteLine($"## Comparison: A = {a.Run.BaseUrl}, B = {b.Run.BaseUrl}");
        output.WriteLine();
        output.WriteLine("| metric | A | B | B / A |");
        output.WriteLine("|---|---|---|---|");
        foreach (var (key, va) in a.Metrics)
        {
            var vb = b.Metrics.GetValueOrDefault(key, double.NaN);
            var ratio = va != 0 && double.IsFinite(va) && double.IsFinite(vb) ? Format(vb / va) : "–";
            output.WriteLine($"| {key} | {Format(va)} | {Format(vb)} | {ratio} |");
        }

        output.WriteLine();
    }

    /// <summary>A number with a few significant digits; NaN as a dash.</summary>
    public static string Format(double value) =>
        !double.IsFinite(value) ? "–"
        : value == Math.Floor(value) && Math.Abs(value) < 1e12 ? value.ToString("0", CultureInfo.InvariantCulture)
        : value.ToString("0.####", CultureInfo.InvariantCulture);
}
