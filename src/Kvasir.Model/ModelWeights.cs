using Kvasir.Kernels.Quant;
using Kvasir.Model.Gguf;

namespace Kvasir.Model;

/// <summary>All weights of a model, validated against its <see cref="ModelConfig"/>; matrices stay in the mapped file.</summary>
public sealed unsafe class ModelWeights
{
    private ModelWeights(WeightMatrix tokenEmbedding, float[] outputNorm, WeightMatrix output, LayerWeights[] layers, float[]? ropeFreqFactors)
    {
        TokenEmbedding = tokenEmbedding;
        OutputNorm = outputNorm;
        Output = output;
        Layers = layers;
        RopeFreqFactors = ropeFreqFactors;
    }

    /// <summary>token_embd.weight [vocab rows, dim columns].</summary>
    public WeightMatrix TokenEmbedding { get; }

    /// <summary>output_norm.weight [dim].</summary>
    public float[] OutputNorm { get; }

    /// <summary>output.weight [vocab, dim], or the token embedding when tied.</summary>
    public WeightMatrix Output { get; }

    /// <summary>Whether the output matrix is the token embedding.</summary>
    public bool TiedOutput => Output.Name == TokenEmbedding.Name;

    /// <summary>The blocks, in order.</summary>
    public LayerWeights[] Layers { get; }

    /// <summary>rope_freqs.weight [RopeDimensionCount/2] (Llama 3 RoPE scaling), or null.</summary>
    public float[]? RopeFreqFactors { get; }

    /// <summary>Binds every tensor the architecture needs, checking types and shapes.</summary>
    public static ModelWeights Load(GgufFile file, ModelConfig config)
    {
        var dim = config.EmbeddingLength;
        var embedding = Matrix(file, "token_embd.weight", config.VocabSize, dim);
        var output = file.FindTensor("output.weight") is null ? embedding : Matrix(file, "output.weight", config.VocabSize, dim);
        var layers = new LayerWeights[config.BlockCount];
        for (var i = 0; i < layers.Length; i++)
        {
            var p = $"blk.{i}.";
            var hasBias = config.Architecture == ModelArchitecture.Qwen2;
            var hasQkNorm = config.Architecture == ModelArchitecture.Qwen3;
            layers[i] = new LayerWeights
            {
                AttnNorm = Vector(file, p + "attn_norm.weight", dim),
                Wq = Matrix(file, p + "attn_q.weight", config.QueryWidth, dim),
                Wk = Matrix(file, p + "attn_k.weight", config.KvWidth, dim),
                Wv = Matrix(file, p + "attn_v.weight", config.KvWidth, dim),
                Wo = Matrix(file, p + "attn_output.weight", dim, config.QueryWidth),
                BiasQ = hasBias ? Vector(file, p + "attn_q.bias", config.QueryWidth) : null,
                BiasK = hasBias ? Vector(file, p + "attn_k.bias", config.KvWidth) : null,
                BiasV = hasBias ? Vector(file, p + "attn_v.bias", config.KvWidth) : null,
                QNorm = hasQkNorm ? Vector(file, p + "attn_q_norm.weight", config.HeadDim) : null,
                KNorm = hasQkNorm ? Vector(file, p + "attn_k_norm.weight", config.HeadDim) : null,
                FfnNorm = Vector(file, p + "ffn_norm.weight", dim),
                WGate = Matrix(file, p + "ffn_gate.weight", config.FeedForwardLength, dim),
                WUp = Matrix(file, p + "ffn_up.weight", config.FeedForwardLength, dim),
                WDown = Matrix(file, p + "ffn_down.weight", dim, config.FeedForwardLength),
            };
        }

        var ropeFreqs = file.FindTensor("rope_freqs.weight") is null ? null : Vector(file, "rope_freqs.weight", config.RopeDimensionCount / 2);
        return new ModelWeights(embedding, Vector(file, "output_norm.weight", dim), output, layers, ropeFreqs);
    }

    private static WeightMatrix Matrix(GgufFile file, string name, int rows, int columns)
    {
        var t = file.GetTensor(name);
        if (t.Shape.Length != 2 || t.Shape[0] != columns || t.Shape[1] != rows)
        {
            throw new ModelFormatException(file.FilePath, $"the tensor has shape {t.ShapeText}, expected [{columns}, {rows}] from the hyper-parameters.", $"tensor '{name}'",
                "The metadata and the tensors disagree: the file is damaged or was converted wrongly; convert it again.");
        }

        return new WeightMatrix(name, t.Type, rows, columns, file.TensorPointer(t));
    }

    private static float[] Vector(GgufFile file, string name, int length)
    {
        var t = file.GetTensor(name);
        if (t.ElementCount != length || t.Shape.Length != 1)
        {
            throw new ModelFormatException(file.FilePath, $"the tensor has shape {t.ShapeText}, expected [{length}].", $"tensor '{name}'",
                "The metadata and the tensors disagree: the file is damaged or was converted wrongly; convert it again.");
        }

        var values = new float[length];
        Dequantize.Row(t.Type, file.TensorData(t), values);
        return values;
    }
}
