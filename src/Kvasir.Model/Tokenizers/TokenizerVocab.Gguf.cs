using System.Collections;
using System.Globalization;
using Kvasir.Model.Gguf;

namespace Kvasir.Model.Tokenizers;

/// <summary>Reading a vocabulary from GGUF metadata, with llama.cpp's defaults for missing keys.</summary>
public sealed partial record TokenizerVocab
{
    /// <summary>Reads the vocabulary of an open GGUF file; problems raise <see cref="ModelFormatException"/>.</summary>
    public static TokenizerVocab FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var values = new Dictionary<string, object>(file.Metadata.Count, StringComparer.Ordinal);
        foreach (var (key, value) in file.Metadata)
        {
            values[key] = value.Value;
        }

        return Read(values, (key, problem) => new ModelFormatException(
            file.FilePath, problem, $"key '{key}'", "The tokenizer metadata is damaged or of an unsupported kind: convert the model again with a recent llama.cpp."));
    }

    /// <summary>
    /// Reads a vocabulary from metadata values (boxed scalars and typed arrays, as <see cref="ToGgufMetadata"/>
    /// produces and the GGUF reader returns). Missing keys take llama.cpp's defaults: for "llama" BOS 1, EOS 2,
    /// UNK 0, add BOS and a space prefix; for "gpt2" BOS and EOS 11 and add BOS only for the Llama 3 family of
    /// pre-tokenizers. Problems raise <see cref="ArgumentException"/>.
    /// </summary>
    public static TokenizerVocab FromGgufMetadata(IReadOnlyDictionary<string, object> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return Read(metadata, (key, problem) => new ArgumentException($"Tokenizer metadata key '{key}': {problem}", nameof(metadata)));
    }

    private static TokenizerVocab Read(IReadOnlyDictionary<string, object> metadata, Func<string, string, Exception> error)
    {
        var reader = new MetadataReader(metadata, error);
        var model = reader.String("model") ?? throw error(KeyPrefix + "model", "the key is missing.");
        var pre = reader.String("pre");
        var tokens = reader.StringArray("tokens") ?? throw error(KeyPrefix + "tokens", "the key is missing.");
        var scores = reader.FloatArray("scores");
        var types = reader.IntArray("token_type");
        var merges = reader.StringArray("merges");

        var spm = model == "llama";
        int? bos = spm ? 1 : model == "gpt2" ? 11 : null;
        int? eos = spm ? 2 : model == "gpt2" ? 11 : null;
        int? unk = spm ? 0 : null;
        var addBos = spm || (model == "gpt2" && Llama3StylePres.Contains(pre ?? string.Empty));

        return new TokenizerVocab
        {
            Model = model,
            Pre = pre,
            Tokens = tokens,
            Scores = scores,
            TokenTypes = types,
            Merges = merges,
            BosId = reader.Id("bos_token_id", tokens.Length, bos) ?? -1,
            EosId = reader.Id("eos_token_id", tokens.Length, eos) ?? -1,
            UnkId = reader.Id("unknown_token_id", tokens.Length, unk),
            PadId = reader.Id("padding_token_id", tokens.Length, null),
            EotId = reader.Id("eot_token_id", tokens.Length, null),
            AddBos = reader.Bool("add_bos_token") ?? addBos,
            AddEos = reader.Bool("add_eos_token") ?? false,
            AddSpacePrefix = reader.Bool("add_space_prefix") ?? spm,
        };
    }

    // Pre-tokenizers for which llama.cpp adds BOS when add_bos_token is absent.
    private static readonly HashSet<string> Llama3StylePres = new(StringComparer.Ordinal)
    {
        "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "tekken", "chameleon",
    };

    private readonly struct MetadataReader(IReadOnlyDictionary<string, object> metadata, Func<string, string, Exception> error)
    {
        public string? String(string name)
        {
            var key = KeyPrefix + name;
            return !metadata.TryGetValue(key, out var v) ? null : v as string ?? throw error(key, $"expected a string, found {v.GetType().Name}.");
        }

        public bool? Bool(string name)
        {
            var key = KeyPrefix + name;
            return !metadata.TryGetValue(key, out var v) ? null : v as bool? ?? throw error(key, $"expected a bool, found {v.GetType().Name}.");
        }

        // A special token id; like llama.cpp, an id outside the vocabulary keeps the default, and a default
        // outside the vocabulary is dropped.
        public int? Id(string name, int count, int? fallback)
        {
            var key = KeyPrefix + name;
            if (fallback is int f && f >= count)
            {
                fallback = null;
            }

            if (!metadata.TryGetValue(key, out var v))
            {
                return fallback;
            }

            var id = v switch
            {
                byte or sbyte or ushort or short or uint or int or ulong or long => Convert.ToInt64(v, CultureInfo.InvariantCulture),
                _ => throw error(key, $"expected an integer, found {v.GetType().Name}."),
            };
            return id >= 0 && id < count ? (int)id : fallback;
        }

        public string[]? StringArray(string name)
        {
            var key = KeyPrefix + name;
            if (!metadata.TryGetValue(key, out var v))
            {
                return null;
            }

            if (v is string[] strings)
            {
                return strings;
            }

            if (v is IEnumerable items and not string)
            {
                var list = new List<string>();
                foreach (var item in items)
                {
                    list.Add(item as string ?? throw error(key, "expected an array of strings."));
                }

                return [.. list];
            }

            throw error(key, $"expected an array of strings, found {v.GetType().Name}.");
        }

        // Scores may be stored as float32 or int32 (llama.cpp accepts both).
        public float[]? FloatArray(string name)
        {
            var key = KeyPrefix + name;
            if (!metadata.TryGetValue(key, out var v))
            {
                return null;
            }

            return v switch
            {
                float[] f => f,
                int[] i => Array.ConvertAll(i, x => (float)x),
                _ => throw error(key, $"expected an array of float32 or int32, found {v.GetType().Name}."),
            };
        }

        public int[]? IntArray(string name)
        {
            var key = KeyPrefix + name;
            if (!metadata.TryGetValue(key, out var v))
            {
                return null;
            }

            return v switch
            {
                int[] i => i,
                uint[] u => Array.ConvertAll(u, x => (int)x),
                _ => throw error(key, $"expected an array of int32, found {v.GetType().Name}."),
            };
        }
    }
}
