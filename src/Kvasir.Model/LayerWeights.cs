namespace Kvasir.Model;

/// <summary>The weights of one transformer block. Norm weights and biases are small and copied to F32 at load.</summary>
public sealed class LayerWeights
{
    /// <summary>attn_norm.weight [dim].</summary>
    public required float[] AttnNorm { get; init; }

    /// <summary>attn_q.weight [HeadCount*HeadDim rows, dim columns].</summary>
    public required WeightMatrix Wq { get; init; }

    /// <summary>attn_k.weight [HeadCountKv*HeadDim, dim].</summary>
    public required WeightMatrix Wk { get; init; }

    /// <summary>attn_v.weight [HeadCountKv*HeadDim, dim].</summary>
    public required WeightMatrix Wv { get; init; }

    /// <summary>attn_output.weight [dim, HeadCount*HeadDim].</summary>
    public required WeightMatrix Wo { get; init; }

    /// <summary>qwen2: attn_q.bias [HeadCount*HeadDim], else null.</summary>
    public float[]? BiasQ { get; init; }

    /// <summary>qwen2: attn_k.bias [HeadCountKv*HeadDim], else null.</summary>
    public float[]? BiasK { get; init; }

    /// <summary>qwen2: attn_v.bias [HeadCountKv*HeadDim], else null.</summary>
    public float[]? BiasV { get; init; }

    /// <summary>qwen3: attn_q_norm.weight [HeadDim], applied per head; else null.</summary>
    public float[]? QNorm { get; init; }

    /// <summary>qwen3: attn_k_norm.weight [HeadDim], applied per head; else null.</summary>
    public float[]? KNorm { get; init; }

    /// <summary>ffn_norm.weight [dim].</summary>
    public required float[] FfnNorm { get; init; }

    /// <summary>ffn_gate.weight [ffn, dim].</summary>
    public required WeightMatrix WGate { get; init; }

    /// <summary>ffn_up.weight [ffn, dim].</summary>
    public required WeightMatrix WUp { get; init; }

    /// <summary>ffn_down.weight [dim, ffn].</summary>
    public required WeightMatrix WDown { get; init; }
}
