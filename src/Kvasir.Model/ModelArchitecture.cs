namespace Kvasir.Model;

/// <summary>The model architectures Kvasir runs, as named by GGUF's general.architecture.</summary>
public enum ModelArchitecture
{
    /// <summary>"llama": Llama 2/3, TinyLlama, SmolLM, Mistral. Normal (adjacent-pair) RoPE.</summary>
    Llama,

    /// <summary>"qwen2": Llama with Q/K/V biases and NeoX (half-split) RoPE.</summary>
    Qwen2,

    /// <summary>"qwen3": per-head RMSNorm on Q and K, no biases, NeoX RoPE.</summary>
    Qwen3,
}
