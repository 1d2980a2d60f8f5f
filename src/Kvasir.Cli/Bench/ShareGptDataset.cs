using System.Text.Json;

namespace Kvasir.Cli.Bench;

/// <summary>
/// ShareGPT-format JSON: an array of `{"conversations": [{"from": "human", "value": ...}, {"from": "gpt", "value": ...}]}`.
/// The first human turn is the prompt; the reply's estimated length (or <see cref="DatasetOptions.ShareGptOutputLen"/>)
/// is the output length. Conversations are shuffled with the seed and the first n kept.
/// </summary>
public static class ShareGptDataset
{
    /// <summary>Reads the file and builds the requests.</summary>
    public static IReadOnlyList<BenchRequest> Load(string path, DatasetOptions options, WordText text)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(text);
        using var stream = File.OpenRead(path);
        using var doc = JsonDocument.Parse(stream);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new CliException($"'{path}' is not a ShareGPT file: the top level must be a JSON array of conversations.");
        }

        var pairs = new List<(string Prompt, string Reply)>();
        foreach (var entry in doc.RootElement.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("conversations", out var turns) || turns.ValueKind != JsonValueKind.Array
                || turns.GetArrayLength() < 2)
            {
                continue;
            }

            var prompt = turns[0].TryGetProperty("value", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
            var reply = turns[1].TryGetProperty("value", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
            if (prompt.Length > 0 && reply.Length > 0)
            {
                pairs.Add((prompt, reply));
            }
        }

        SharedPrefixDataset.Shuffle(pairs, new Random(options.Seed));
        var requests = new List<BenchRequest>(Math.Min(options.NumPrompts, pairs.Count));
        for (var i = 0; i < pairs.Count && requests.Count < options.NumPrompts; i++)
        {
            var promptLen = EstimateTokens(pairs[i].Prompt, text);
            var outputLen = options.ShareGptOutputLen ?? EstimateTokens(pairs[i].Reply, text);
            if (options.MaxOutputLen > 0)
            {
                outputLen = Math.Min(outputLen, options.MaxOutputLen);
            }

            if (options.MaxInputLen > 0 && promptLen > options.MaxInputLen)
            {
                continue;
            }

            requests.Add(BenchRequest.User(pairs[i].Prompt, promptLen, Math.Max(1, outputLen)));
        }

        return requests;
    }

    /// <summary>Whitespace-separated words × tokens per word, at least 1.</summary>
    public static int EstimateTokens(string s, WordText text)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(text);
        var words = s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        return Math.Max(1, (int)Math.Round(words * text.TokensPerWord));
    }
}
