namespace Kvasir.Model.Making;

/// <summary>
/// The shape of a model to make: architecture and dimensions. The presets are the benchmark shapes of
/// benchmarking.md (S, M, L) and a tiny shape for tests (T).
/// </summary>
public sealed record ModelShape
{
    /// <summary>Architecture to write (general.architecture).</summary>
    public ModelArchitecture Architecture { get; init; } = ModelArchitecture.Llama;

    /// <summary>Residual width.</summary>
    public int Dim { get; init; }

    /// <summary>Number of layers.</summary>
    public int Layers { get; init; }

    /// <summary>Query heads.</summary>
    public int Heads { get; init; }

    /// <summary>Key/value heads.</summary>
    public int KvHeads { get; init; }

    /// <summary>Feed-forward width.</summary>
    public int FeedForward { get; init; }

    /// <summary>Vocabulary size (the trained vocabulary is padded with reserved control tokens to reach it).</summary>
    public int VocabSize { get; init; }

    /// <summary>Context length written to the metadata.</summary>
    public int ContextLength { get; init; } = 2048;

    /// <summary>Head width; 0 means Dim / Heads.</summary>
    public int HeadDim { get; init; }

    /// <summary>Whether the output matrix is the token embedding (no output.weight tensor).</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>RoPE base frequency.</summary>
    public float RopeFreqBase { get; init; } = 10000f;

    /// <summary>The effective head width.</summary>
    public int EffectiveHeadDim => HeadDim > 0 ? HeadDim : Dim / Heads;

    /// <summary>S: the SmolLM2-135M shape (llama, tied embeddings).</summary>
    public static ModelShape S => new() { Dim = 576, Layers = 30, Heads = 9, KvHeads = 3, FeedForward = 1536, VocabSize = 49152, ContextLength = 8192, TiedEmbeddings = true, RopeFreqBase = 100000f };

    /// <summary>M: the Qwen2.5-0.5B shape (qwen2, tied embeddings).</summary>
    public static ModelShape M => new() { Architecture = ModelArchitecture.Qwen2, Dim = 896, Layers = 24, Heads = 14, KvHeads = 2, FeedForward = 4864, VocabSize = 151936, ContextLength = 32768, TiedEmbeddings = true, RopeFreqBase = 1000000f };

    /// <summary>L: the TinyLlama-1.1B shape (llama, separate output matrix).</summary>
    public static ModelShape L => new() { Dim = 2048, Layers = 22, Heads = 32, KvHeads = 4, FeedForward = 5632, VocabSize = 32000, ContextLength = 2048 };

    /// <summary>T: a tiny shape for tests (runs in milliseconds).</summary>
    public static ModelShape T => new() { Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, FeedForward = 160, VocabSize = 512, ContextLength = 512 };

    /// <summary>A preset by name (S, M, L, T; case-insensitive), or null.</summary>
    public static ModelShape? Preset(string name) => name.ToUpperInvariant() switch
    {
        "S" => S,
        "M" => M,
        "L" => L,
        "T" => T,
        _ => null,
    };

    /// <summary>Checks the dimensions; returns an error message or null.</summary>
    public string? Validate()
    {
        if (Dim <= 0 || Layers <= 0 || Heads <= 0 || KvHeads <= 0 || FeedForward <= 0 || VocabSize <= 0 || ContextLength <= 0)
        {
            return "every dimension must be positive";
        }

        if (Heads % KvHeads != 0)
        {
            return $"{Heads} heads cannot be grouped over {KvHeads} key/value heads";
        }

        if (HeadDim == 0 && Dim % Heads != 0)
        {
            return $"dim {Dim} is not a multiple of {Heads} heads (or give --head-dim)";
        }

        return EffectiveHeadDim % 2 != 0 ? "the head width must be even for RoPE" : null;
    }
}
