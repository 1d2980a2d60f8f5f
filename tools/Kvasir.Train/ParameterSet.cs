namespace Kvasir.Train;

/// <summary>
/// All trainable tensors of a llama model in one flat array (so that AdamW, clipping and checkpoints are one
/// loop), each tensor a named slice. Matrices are stored as GGUF stores them: [rows = out, cols = in].
/// </summary>
internal sealed class ParameterSet
{
    private readonly List<ParameterTensor> _tensors = [];
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);

    public ParameterSet(TrainConfig c)
    {
        Config = c;
        Add("token_embd.weight", c.VocabSize, c.Dim, decay: true);
        for (var l = 0; l < c.Layers; l++)
        {
            var p = $"blk.{l}.";
            Add(p + "attn_norm.weight", 1, c.Dim, decay: false);
            Add(p + "attn_q.weight", c.QDim, c.Dim, decay: true);
            Add(p + "attn_k.weight", c.KvDim, c.Dim, decay: true);
            Add(p + "attn_v.weight", c.KvDim, c.Dim, decay: true);
            Add(p + "attn_output.weight", c.Dim, c.QDim, decay: true);
            Add(p + "ffn_norm.weight", 1, c.Dim, decay: false);
            Add(p + "ffn_gate.weight", c.FeedForward, c.Dim, decay: true);
            Add(p + "ffn_up.weight", c.FeedForward, c.Dim, decay: true);
            Add(p + "ffn_down.weight", c.Dim, c.FeedForward, decay: true);
        }

        Add("output_norm.weight", 1, c.Dim, decay: false);
        if (!c.TiedEmbeddings)
        {
            Add("output.weight", c.VocabSize, c.Dim, decay: true);
        }

        Values = new float[Count];
    }

    public TrainConfig Config { get; }

    /// <summary>Total number of parameters.</summary>
    public int Count { get; private set; }

    /// <summary>[Count] all parameters.</summary>
    public float[] Values { get; }

    /// <summary>The tensors in file order.</summary>
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    public ParameterTensor this[string name] => _byName[name];

    /// <summary>The values of one tensor.</summary>
    public Span<float> Of(ParameterTensor t) => Values.AsSpan(t.Offset, t.Length);

    /// <summary>GPT-2 style init: N(0, 0.02), residual output projections scaled by 1/√(2·layers), norms 1.</summary>
    public void Initialize(ulong seed)
    {
        var rng = new Random((int)(seed & 0x7FFFFFFF));
        foreach (var t in _tensors)
        {
            var v = Of(t);
            if (!t.Decay)
            {
                v.Fill(1f);
                continue;
            }

            var std = 0.02f;
            if (t.Name.EndsWith("attn_output.weight", StringComparison.Ordinal) || t.Name.EndsWith("ffn_down.weight", StringComparison.Ordinal))
            {
                std /= MathF.Sqrt(2 * Config.Layers);
            }

            for (var i = 0; i < v.Length; i++)
            {
                // Box-Muller.
                var u1 = 1.0 - rng.NextDouble();
                var u2 = rng.NextDouble();
                v[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * std);
            }
        }
    }

    private void Add(string name, int rows, int cols, bool decay)
    {
        var t = new ParameterTensor(name, Count, rows, cols, decay);
        _tensors.Add(t);
        _byName.Add(name, t);
        Count += rows * cols;
    }
}

/// <summary>One tensor of a <see cref="ParameterSet"/>: [Rows, Cols] row-major at Offset.</summary>
internal sealed record ParameterTensor(string Name, int Offset, int Rows, int Cols, bool Decay)
{
    public int Length => Rows * Cols;
}
