using System.Globalization;

namespace Kvasir.Cli.Bench;

/// <summary>
/// A BurstGPT CSV trace (columns Timestamp, Session ID, Elapsed time, Model, Request tokens, Response tokens, Total
/// tokens, Log Type). Each row becomes a request of random words with its request and response token counts, arriving
/// at its timestamp (seconds, relative to the first row). Rows with zero response tokens (failures) are skipped.
/// </summary>
public static class BurstGptTrace
{
    /// <summary>Reads the first <see cref="DatasetOptions.NumPrompts"/> usable rows.</summary>
    public static IReadOnlyList<BenchRequest> Load(string path, DatasetOptions options, WordText text)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var reader = new StreamReader(path);
        return Parse(reader, options, text, path);
    }

    /// <summary>Parses CSV text (tests).</summary>
    public static IReadOnlyList<BenchRequest> Parse(TextReader reader, DatasetOptions options, WordText text, string name = "trace")
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(text);
        var header = reader.ReadLine() ?? throw new CliException($"'{name}' is empty: a BurstGPT CSV starts with a header row.");
        var columns = header.Split(',');
        int Column(string column)
        {
            var i = Array.FindIndex(columns, c => string.Equals(c.Trim(), column, StringComparison.OrdinalIgnoreCase));
            return i >= 0 ? i : throw new CliException($"'{name}' has no '{column}' column: expected BurstGPT's Timestamp, Request tokens, Response tokens.");
        }

        var timestampCol = Column("Timestamp");
        var requestCol = Column("Request tokens");
        var responseCol = Column("Response tokens");
        var random = new Random(options.Seed);
        var requests = new List<BenchRequest>();
        double? first = null;
        string? line;
        var lineNumber = 1;
        while (requests.Count < options.NumPrompts && (line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            var cells = line.Split(',');
            if (cells.Length <= Math.Max(timestampCol, Math.Max(requestCol, responseCol))
                || !double.TryParse(cells[timestampCol], NumberStyles.Float, CultureInfo.InvariantCulture, out var timestamp)
                || !int.TryParse(cells[requestCol], NumberStyles.Integer, CultureInfo.InvariantCulture, out var inputLen)
                || !int.TryParse(cells[responseCol], NumberStyles.Integer, CultureInfo.InvariantCulture, out var outputLen))
            {
                throw new CliException($"'{name}' line {lineNumber} is not a BurstGPT row: '{line}'.");
            }

            if (outputLen <= 0 || inputLen <= 0)
            {
                continue;
            }

            first ??= timestamp;
            inputLen = options.MaxInputLen > 0 ? Math.Min(inputLen, options.MaxInputLen) : inputLen;
            outputLen = options.MaxOutputLen > 0 ? Math.Min(outputLen, options.MaxOutputLen) : outputLen;
            requests.Add(BenchRequest.User(text.Tokens(random, inputLen), inputLen, outputLen, timestamp - first.Value));
        }

        return requests;
    }
}
