using Kvasir.Model.Gguf;

namespace Kvasir.Model;

/// <summary>
/// Hyper-parameters of a model, read entirely from GGUF metadata (keys are prefixed with the architecture
/// name, for example "llama.block_count").
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Which architecture.</summary>
    public required ModelArchitecture Architecture { get; init; }

    /// <summary>The architecture's GGUF name ("llama", "qwen2", "qwen3").</summary>
    public required string ArchitectureName { get; init; }

    /// <summary>general.name, or null.</summary>
    public string? Name { get; init; }

    /// <summary>Number of tokens in the vocabulary (rows of the embedding matrix).</summary>
    public required int VocabSize { get; init; }

    /// <summary>Context length the model was trained for.</summary>
    public required int ContextLength { get; init; }

    /// <summary>Width of the residual stream (dim).</summary>
    public required int EmbeddingLength { get; init; }

    /// <summary>Number of transformer blocks (layers).</summary>
    public required int BlockCount { get; init; }

    /// <summary>Hidden width of the feed-forward network.</summary>
    public required int FeedForwardLength { get; init; }

    /// <summary>Number of query heads.</summary>
    public required int HeadCount { get; init; }

    /// <summary>Number of key/value heads (grouped-query attention when smaller than HeadCount).</summary>
    public required int HeadCountKv { get; init; }

    /// <summary>Width of one attention head (key_length; dim / heads when absent).</summary>
    public required int HeadDim { get; init; }

    /// <summary>Epsilon of RMSNorm.</summary>
    public required float RmsNormEps { get; init; }

    /// <summary>RoPE base frequency (theta).</summary>
    public required float RopeFreqBase { get; init; }

    /// <summary>Number of rotated dimensions per head (≤ HeadDim).</summary>
    public required int RopeDimensionCount { get; init; }

    /// <summary>Linear RoPE scaling: positions are multiplied by this (1 / scaling factor); 1 when off.</summary>
    public float RopeFreqScale { get; init; } = 1f;

    /// <summary>True for NeoX-style RoPE (rotate halves: qwen2, qwen3), false for adjacent pairs (llama).</summary>
    public bool RopeNeox => Architecture is ModelArchitecture.Qwen2 or ModelArchitecture.Qwen3;

    /// <summary>Query heads per key/value head.</summary>
    public int GroupSize => HeadCount / HeadCountKv;

    /// <summary>Width of all query heads together.</summary>
    public int QueryWidth => HeadCount * HeadDim;

    /// <summary>Width of all key (or value) heads together.</summary>
    public int KvWidth => HeadCountKv * HeadDim;

    /// <summary>The chat template (tokenizer.chat_template), or null.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Reads and validates the hyper-parameters of a GGUF model.</summary>
    public static ModelConfig FromGguf(GgufFile file)
    {
        var archName = file.GetString("general.architecture");
        var arch = archName switch
        {
            "llama" => ModelArchitecture.Llama,
            "qwen2" => ModelArchitecture.Qwen2,
            "qwen3" => ModelArchitecture.Qwen3,
            _ => throw new ModelFormatException(file.FilePath, $"the architecture '{archName}' is not supported.", "key 'general.architecture'",
                "Kvasir runs llama (Llama 2/3, TinyLlama, SmolLM, Mistral), qwen2 and qwen3 models."),
        };

        string Key(string suffix) => $"{archName}.{suffix}";
        var dim = file.GetPositiveInt(Key("embedding_length"));
        var heads = file.GetPositiveInt(Key("attention.head_count"), 4096);
        var kvHeads = file.GetPositiveIntOrNull(Key("attention.head_count_kv"), 4096) ?? heads;
        var headDim = file.GetPositiveIntOrNull(Key("attention.key_length"), 4096) ?? dim / heads;
        var valueDim = file.GetPositiveIntOrNull(Key("attention.value_length"), 4096) ?? headDim;
        if (heads % kvHeads != 0)
        {
            throw new ModelFormatException(file.FilePath, $"{heads} query heads cannot be grouped over {kvHeads} key/value heads.", $"key '{Key("attention.head_count_kv")}'",
                "The file is damaged or not a standard model: check its source.");
        }

        if (valueDim != headDim)
        {
            throw new ModelFormatException(file.FilePath, $"key and value heads differ in width ({headDim} vs {valueDim}).", $"key '{Key("attention.value_length")}'",
                "Kvasir supports models whose key and value heads have the same width.");
        }

        if (file.GetStringOrNull(Key("rope.scaling.type")) is { } scaling && scaling is not ("none" or "linear"))
        {
            throw new ModelFormatException(file.FilePath, $"RoPE scaling '{scaling}' is not supported yet.", $"key '{Key("rope.scaling.type")}'",
                "Use a model without long-context RoPE scaling, or one with linear scaling.");
        }

        var scaleFactor = file.GetFloatOrNull(Key("rope.scaling.factor")) ?? 1f;
        var ropeDims = file.GetPositiveIntOrNull(Key("rope.dimension_count"), 4096) ?? headDim;
        if (ropeDims > headDim || ropeDims % 2 != 0)
        {
            throw new ModelFormatException(file.FilePath, $"RoPE rotates {ropeDims} dimensions of heads {headDim} wide.", $"key '{Key("rope.dimension_count")}'",
                "The file is damaged: convert it again.");
        }

        var embedding = file.GetTensor("token_embd.weight");
        var vocab = (int)Math.Min(embedding.Rows, int.MaxValue);
        return new ModelConfig
        {
            Architecture = arch,
            ArchitectureName = archName,
            Name = file.GetStringOrNull("general.name"),
            VocabSize = vocab,
            ContextLength = file.GetPositiveIntOrNull(Key("context_length"), 1 << 24) ?? 2048,
            EmbeddingLength = dim,
            BlockCount = file.GetPositiveInt(Key("block_count"), 1024),
            FeedForwardLength = file.GetPositiveInt(Key("feed_forward_length")),
            HeadCount = heads,
            HeadCountKv = kvHeads,
            HeadDim = headDim,
            RmsNormEps = file.GetFloatOrNull(Key("attention.layer_norm_rms_epsilon")) ?? 1e-5f,
            RopeFreqBase = file.GetFloatOrNull(Key("rope.freq_base")) ?? 10000f,
            RopeDimensionCount = ropeDims,
            RopeFreqScale = scaleFactor > 0 && scaleFactor != 1f && file.GetStringOrNull(Key("rope.scaling.type")) == "linear" ? 1f / scaleFactor : 1f,
            ChatTemplate = file.GetStringOrNull("tokenizer.chat_template"),
        };
    }
}
