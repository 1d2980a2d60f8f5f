using System.Text;
using System.Text.Json;

namespace Kvasir.Cli.Bench;

/// <summary>
/// A Mooncake-style JSONL trace: one `{"timestamp": ms, "input_length", "output_length", "hash_ids": [...]}` per line,
/// where each hash id names one block of <see cref="DatasetOptions.MooncakeBlockSize"/> prompt tokens. The prompt is
/// built block by block from text that depends only on the hash id (the last block cut to the input length), so
/// requests that share leading hash ids share a prompt prefix, as in the real trace.
/// </summary>
public static class MooncakeTrace
{
    /// <summary>Reads the first <see cref="DatasetOptions.NumPrompts"/> lines.</summary>
    public static IReadOnlyList<BenchRequest> Load(string path, DatasetOptions options, WordText text)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, options, text, path);
    }

    /// <summary>Parses JSONL text (tests).</summary>
    public static IReadOnlyList<BenchRequest> Parse(TextReader reader, DatasetOptions options, WordText text, string name = "trace")
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(text);
        var blockWords = text.WordsFor(options.MooncakeBlockSize);
        var blocks = new Dictionary<long, string[]>();
        var requests = new List<BenchRequest>();
        double? first = null;
        string? line;
        var lineNumber = 0;
        while (requests.Count < options.NumPrompts && (line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            double timestampMs;
            int inputLen, outputLen;
            long[] hashIds;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                timestampMs = root.TryGetProperty("timestamp", out var ts) ? ts.GetDouble() : 0;
                inputLen = root.GetProperty("input_length").GetInt32();
                outputLen = root.GetProperty("output_length").GetInt32();
                hashIds = root.TryGetProperty("hash_ids", out var ids) ? [.. ids.EnumerateArray().Select(e => e.GetInt64())] : [];
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new CliException($"'{name}' line {lineNumber} is not a Mooncake record (timestamp, input_length, output_length, hash_ids): {e.Message}");
            }

            first ??= timestampMs;
            outputLen = Math.Max(1, options.MaxOutputLen > 0 ? Math.Min(outputLen, options.MaxOutputLen) : outputLen);
            inputLen = Math.Max(1, options.MaxInputLen > 0 ? Math.Min(inputLen, options.MaxInputLen) : inputLen);
            var prompt = BuildPrompt(hashIds, inputLen, options, text, blockWords, blocks);
            requests.Add(BenchRequest.User(prompt, inputLen, outputLen, (timestampMs - first.Value) / 1000.0));
        }

        return requests;
    }

    private static string BuildPrompt(long[] hashIds, int inputLen, DatasetOptions options, WordText text, int blockWords, Dictionary<long, string[]> blocks)
    {
        var totalWords = text.WordsFor(inputLen);
        var sb = new StringBuilder(totalWords * 6);
        var written = 0;
        for (var b = 0; written < totalWords; b++)
        {
            // Blocks beyond the listed hash ids (a malformed trace) get ids of their own that no other request shares.
            var id = b < hashIds.Length ? hashIds[b] : long.MinValue + (((long)inputLen) << 20) + b;
            if (!blocks.TryGetValue(id, out var words))
            {
                words = WordText.WordsText(new Random(BlockSeed(options.Seed, id)), blockWords).Split(' ');
                blocks[id] = words;
            }

            for (var w = 0; w < words.Length && written < totalWords; w++, written++)
            {
                if (written > 0)
                {
                    sb.Append(' ');
                }

                sb.Append(words[w]);
            }
        }

        return sb.ToString();
    }

    /// <summary>The text seed of one hash id (stable across processes, unlike <see cref="HashCode"/>).</summary>
    private static int BlockSeed(int seed, long id)
    {
        var x = unchecked((ulong)id * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)seed * 0xC2B2AE3D27D4EB4FUL);
        x ^= x >> 31;
        return unchecked((int)(x ^ (x >> 32)) & int.MaxValue);
    }
}
