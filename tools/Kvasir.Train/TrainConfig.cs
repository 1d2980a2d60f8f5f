namespace Kvasir.Train;

/// <summary>The shape of the model being trained (llama architecture) and the optimisation settings.</summary>
internal sealed record TrainConfig
{
    /// <summary>Residual width.</summary>
    public int Dim { get; init; } = 256;

    /// <summary>Transformer blocks.</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Query heads.</summary>
    public int Heads { get; init; } = 8;

    /// <summary>Key/value heads (GQA when fewer than <see cref="Heads"/>).</summary>
    public int KvHeads { get; init; } = 4;

    /// <summary>Hidden width of the SwiGLU feed-forward.</summary>
    public int FeedForward { get; init; } = 704;

    /// <summary>Vocabulary size.</summary>
    public int VocabSize { get; init; } = 2048;

    /// <summary>Longest sequence trained (and the context length written to the GGUF).</summary>
    public int ContextLength { get; init; } = 1024;

    /// <summary>RoPE base frequency.</summary>
    public float RopeFreqBase { get; init; } = 10000f;

    /// <summary>RMSNorm epsilon.</summary>
    public float NormEps { get; init; } = 1e-5f;

    /// <summary>Whether the output projection is the token embedding (no output.weight).</summary>
    public bool TiedEmbeddings { get; init; } = true;

    /// <summary>Elements per head.</summary>
    public int HeadDim => Dim / Heads;

    /// <summary>Width of all query heads.</summary>
    public int QDim => Heads * HeadDim;

    /// <summary>Width of all key (or value) heads.</summary>
    public int KvDim => KvHeads * HeadDim;

    /// <summary>Null when the shape is usable, else what is wrong.</summary>
    public string? Validate()
    {
        if (Dim % Heads != 0 || HeadDim % 8 != 0)
        {
            return $"dim {Dim} must be heads × a multiple of 8";
        }

        if (Heads % KvHeads != 0)
        {
            return $"heads {Heads} must be a multiple of kv heads {KvHeads}";
        }

        return Dim % 16 != 0 || FeedForward % 16 != 0 ? "dim and feed-forward must be multiples of 16" : null;
    }
}
