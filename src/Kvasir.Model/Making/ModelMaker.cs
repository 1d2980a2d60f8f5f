using Kvasir.Kernels.Quant;
using Kvasir.Model.Gguf;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Model.Making;

/// <summary>
/// Writes random-weights GGUF models of a given shape, architecture and weight type, with a vocabulary that
/// llama.cpp accepts: for benchmarks (speed does not depend on the values) and for oracle tests.
/// </summary>
/// <remarks>
/// Random models at the usual init scale have nearly flat logits (testing.md), so the output projection is
/// scaled to give logits with a standard deviation of about <see cref="MakeModelOptions.LogitScale"/>:
/// the top-two gaps are then decisive and greedy sequences can be compared across engines.
/// </remarks>
public static class ModelMaker
{
    /// <summary>Weight types make-model can write.</summary>
    public static readonly GgmlType[] WritableTypes = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0];

    /// <summary>Builds the vocabulary a made model uses: trained on the built-in corpus, padded with reserved control tokens.</summary>
    public static TokenizerVocab MakeVocab(VocabKind kind, int vocabSize)
    {
        // A few KB of prose supports a few hundred merges; past that the vocabulary is padded.
        var trained = Math.Min(vocabSize, kind == VocabKind.Spm ? 1024 : 1024);
        var vocab = kind == VocabKind.Spm
            ? VocabBuilder.TrainSpm(VocabBuilder.DefaultCorpus, trained)
            : VocabBuilder.TrainBpe(VocabBuilder.DefaultCorpus, trained, "llama-bpe");
        return Pad(vocab, vocabSize);
    }

    /// <summary>Writes a model to <paramref name="path"/>.</summary>
    public static void Write(string path, ModelShape shape, GgmlType weightType, VocabKind vocabKind, MakeModelOptions? options = null)
    {
        options ??= new MakeModelOptions();
        if (shape.Validate() is { } problem)
        {
            throw new ArgumentException($"Invalid model shape: {problem}.", nameof(shape));
        }

        if (Array.IndexOf(WritableTypes, weightType) < 0)
        {
            throw new ArgumentException($"make-model writes {string.Join(", ", WritableTypes)} weights; {weightType} models are made with llama.cpp's quantizer from an F32 file.", nameof(weightType));
        }

        var block = QuantTraits.Get(weightType).BlockSize;
        var headDim = shape.EffectiveHeadDim;
        foreach (var width in new[] { shape.Dim, shape.FeedForward, shape.Heads * headDim })
        {
            if (width % block != 0)
            {
                throw new ArgumentException($"{weightType} needs every row width to be a multiple of {block}; {width} is not.", nameof(shape));
            }
        }

        var vocab = MakeVocab(vocabKind, shape.VocabSize);
        var arch = shape.Architecture switch
        {
            ModelArchitecture.Qwen2 => "qwen2",
            ModelArchitecture.Qwen3 => "qwen3",
            _ => "llama",
        };
        var w = new GgufWriter();
        w.Add("general.architecture", arch);
        w.Add("general.name", options.Name ?? $"kvasir-random-{arch}-{shape.Dim}x{shape.Layers}");
        w.Add("general.file_type", FileType(weightType));
        w.Add($"{arch}.context_length", (uint)shape.ContextLength);
        w.Add($"{arch}.embedding_length", (uint)shape.Dim);
        w.Add($"{arch}.block_count", (uint)shape.Layers);
        w.Add($"{arch}.feed_forward_length", (uint)shape.FeedForward);
        w.Add($"{arch}.attention.head_count", (uint)shape.Heads);
        w.Add($"{arch}.attention.head_count_kv", (uint)shape.KvHeads);
        w.Add($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f);
        w.Add($"{arch}.rope.freq_base", shape.RopeFreqBase);
        w.Add($"{arch}.rope.dimension_count", (uint)headDim);
        if (shape.HeadDim > 0)
        {
            w.Add($"{arch}.attention.key_length", (uint)headDim);
            w.Add($"{arch}.attention.value_length", (uint)headDim);
        }

        w.Add($"{arch}.vocab_size", (uint)vocab.Tokens.Length);
        foreach (var (key, value) in vocab.ToGgufMetadata())
        {
            w.Add(key, value);
        }

        if (vocabKind == VocabKind.Bpe && options.ChatTemplate is { } template)
        {
            w.Add("tokenizer.chat_template", template);
        }

        var seed = options.Seed;
        var dim = shape.Dim;
        var qw = shape.Heads * headDim;
        var kvw = shape.KvHeads * headDim;
        var nVocab = vocab.Tokens.Length;
        var logitStd = options.LogitScale / MathF.Sqrt(dim);

        AddMatrix(w, "token_embd.weight", dim, nVocab, shape.TiedEmbeddings ? logitStd : 1f, weightType, seed);
        AddVector(w, "output_norm.weight", dim, 1f, 0.05f, seed);
        if (!shape.TiedEmbeddings)
        {
            AddMatrix(w, "output.weight", dim, nVocab, logitStd, weightType, seed);
        }

        for (var l = 0; l < shape.Layers; l++)
        {
            var p = $"blk.{l}.";
            AddVector(w, p + "attn_norm.weight", dim, 1f, 0.05f, seed);
            AddMatrix(w, p + "attn_q.weight", dim, qw, 1f / MathF.Sqrt(dim), weightType, seed);
            AddMatrix(w, p + "attn_k.weight", dim, kvw, 1f / MathF.Sqrt(dim), weightType, seed);
            AddMatrix(w, p + "attn_v.weight", dim, kvw, 1f / MathF.Sqrt(dim), weightType, seed);
            AddMatrix(w, p + "attn_output.weight", qw, dim, 1f / MathF.Sqrt(qw), weightType, seed);
            if (shape.Architecture == ModelArchitecture.Qwen2)
            {
                AddVector(w, p + "attn_q.bias", qw, 0f, 0.1f, seed);
                AddVector(w, p + "attn_k.bias", kvw, 0f, 0.1f, seed);
                AddVector(w, p + "attn_v.bias", kvw, 0f, 0.1f, seed);
            }

            if (shape.Architecture == ModelArchitecture.Qwen3)
            {
                AddVector(w, p + "attn_q_norm.weight", headDim, 1f, 0.05f, seed);
                AddVector(w, p + "attn_k_norm.weight", headDim, 1f, 0.05f, seed);
            }

            AddVector(w, p + "ffn_norm.weight", dim, 1f, 0.05f, seed);
            AddMatrix(w, p + "ffn_gate.weight", dim, shape.FeedForward, 1f / MathF.Sqrt(dim), weightType, seed);
            AddMatrix(w, p + "ffn_up.weight", dim, shape.FeedForward, 1f / MathF.Sqrt(dim), weightType, seed);
            AddMatrix(w, p + "ffn_down.weight", shape.FeedForward, dim, 1f / MathF.Sqrt(shape.FeedForward), weightType, seed);
        }

        w.Write(path);
    }

    private static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q8_0 => 7,
        GgmlType.BF16 => 32,
        _ => 0,
    };

    private static void AddMatrix(GgufWriter w, string name, int columns, int rows, float std, GgmlType type, ulong seed)
    {
        var rowBytes = (int)QuantTraits.RowBytes(type, columns);
        w.AddTensor(name, type, [columns, rows], stream =>
        {
            var rng = new NormalRandom(NormalRandom.Derive(seed, name));
            var values = new float[columns];
            var encoded = new byte[rowBytes];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < columns; c++)
                {
                    values[c] = rng.NextNormal() * std;
                }

                Quantize.Row(type, values, encoded);
                stream.Write(encoded);
            }
        });
    }

    private static void AddVector(GgufWriter w, string name, int length, float mean, float std, ulong seed)
    {
        var rng = new NormalRandom(NormalRandom.Derive(seed, name));
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = mean + (rng.NextNormal() * std);
        }

        w.AddTensor(name, [length], values, GgmlType.F32);
    }

    private static TokenizerVocab Pad(TokenizerVocab vocab, int size)
    {
        var n = vocab.Tokens.Length;
        if (n >= size)
        {
            return vocab;
        }

        var tokens = new string[size];
        var types = new int[size];
        var scores = vocab.Scores is null ? null : new float[size];
        Array.Copy(vocab.Tokens, tokens, n);
        if (vocab.TokenTypes is not null)
        {
            Array.Copy(vocab.TokenTypes, types, n);
        }
        else
        {
            Array.Fill(types, 1, 0, n);
        }

        if (scores is not null)
        {
            Array.Copy(vocab.Scores!, scores, n);
        }

        for (var i = n; i < size; i++)
        {
            tokens[i] = $"<|reserved_{i - n}|>";
            types[i] = 3; // control: never produced by plain text
            if (scores is not null)
            {
                scores[i] = -1e9f;
            }
        }

        return vocab with { Tokens = tokens, TokenTypes = types, Scores = scores };
    }
}
