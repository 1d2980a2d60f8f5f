using Kvasir.Train.Layers;

namespace Kvasir.Train;

/// <summary>
/// Forward and hand-written backward passes of a llama model (as llm.c does for GPT-2) over a
/// <see cref="TrainBatch"/>: embedding, per block RMSNorm → Q/K/V → RoPE → causal GQA attention → output
/// projection → residual → RMSNorm → SwiGLU FFN → residual, final RMSNorm, tied or untied output, cross-entropy.
/// Activations are kept for the backward pass in buffers sized for <see cref="TokenCapacity"/> tokens.
/// </summary>
internal sealed partial class LlamaTrainer
{
    private readonly TrainConfig _c;
    private readonly RopeOp _rope;
    private readonly float[] _transposed; // [Count] Wᵀ of every matrix, at the matrix's offset (refreshed each forward)
    private readonly Layer[] _layers;
    private readonly float[] _xF;         // [n, D] final residual
    private readonly float[] _xnF;        // [n, D] final norm output
    private readonly float[] _rstdF;      // [n]
    private readonly float[] _logits;     // [n, V] logits, then their gradient
    private readonly float[] _dX;         // [n, D] gradient of the residual stream
    private readonly float[] _dXn;        // [n, D] gradient of a norm's output
    private readonly float[] _dQ;         // [n, QD]
    private readonly float[] _dK;         // [n, KvD]
    private readonly float[] _dV;         // [n, KvD]
    private readonly float[] _dAtt;       // [n, QD]
    private readonly float[] _dG;         // [n, F]
    private readonly float[] _dU;         // [n, F]
    private readonly float[] _dH;         // [n, F]
    private int[] _tokens = [];
    private int[] _targets = [];
    private float[] _weights = [];
    private int[] _positions = [];
    private List<SeqSpan> _seqs = [];
    private int _n;

    public LlamaTrainer(ParameterSet parameters, int tokenCapacity, long probCapacity)
    {
        _c = parameters.Config;
        Params = parameters;
        Grads = new float[parameters.Count];
        TokenCapacity = tokenCapacity;
        _rope = new RopeOp(_c.HeadDim, _c.RopeFreqBase, _c.ContextLength);
        _transposed = new float[parameters.Count];
        int n = tokenCapacity, d = _c.Dim;
        _layers = new Layer[_c.Layers];
        for (var l = 0; l < _layers.Length; l++)
        {
            _layers[l] = new Layer(_c, n, probCapacity);
        }

        _xF = new float[n * d];
        _xnF = new float[n * d];
        _rstdF = new float[n];
        _logits = new float[(long)n * _c.VocabSize];
        _dX = new float[n * d];
        _dXn = new float[n * d];
        _dQ = new float[n * _c.QDim];
        _dK = new float[n * _c.KvDim];
        _dV = new float[n * _c.KvDim];
        _dAtt = new float[n * _c.QDim];
        _dG = new float[n * _c.FeedForward];
        _dU = new float[n * _c.FeedForward];
        _dH = new float[n * _c.FeedForward];
    }

    public ParameterSet Params { get; }

    /// <summary>[Params.Count] gradients of the last <see cref="ForwardBackward"/>.</summary>
    public float[] Grads { get; }

    public int TokenCapacity { get; }

    /// <summary>Forward only; returns the logits [n, V] (valid until the next call).</summary>
    public ReadOnlySpan<float> ForwardLogits(TrainBatch batch)
    {
        Forward(batch);
        return _logits.AsSpan(0, _n * _c.VocabSize);
    }

    /// <summary>Runs forward and backward; returns the weighted mean loss. Gradients are overwritten.</summary>
    public double ForwardBackward(TrainBatch batch)
    {
        Forward(batch);
        var weightSum = WeightSum();
        Array.Clear(Grads);
        var loss = CrossEntropyOp.LossAndGradient(_logits, _targets, _weights, _n, _c.VocabSize, (float)(1.0 / weightSum));
        Backward();
        return loss / weightSum;
    }

    /// <summary>Forward only; returns (Σ weighted loss, Σ weights).</summary>
    public (double Loss, double Weight) Evaluate(TrainBatch batch)
    {
        Forward(batch);
        var loss = CrossEntropyOp.LossAndGradient(_logits, _targets, _weights, _n, _c.VocabSize, 0f);
        return (loss, WeightSum());
    }

    private double WeightSum()
    {
        double s = 0;
        for (var t = 0; t < _n; t++)
        {
            s += _weights[t];
        }

        return Math.Max(s, 1e-9);
    }

    private ReadOnlySpan<float> W(string name) => Params.Of(Params[name]);

    private ReadOnlySpan<float> Wt(string name)
    {
        var t = Params[name];
        return _transposed.AsSpan(t.Offset, t.Length);
    }

    private Span<float> G(string name)
    {
        var t = Params[name];
        return Grads.AsSpan(t.Offset, t.Length);
    }

    /// <summary>Saved activations of one block.</summary>
    private sealed class Layer
    {
        public Layer(TrainConfig c, int n, long probCapacity)
        {
            XIn = new float[n * c.Dim];
            Xn1 = new float[n * c.Dim];
            Rstd1 = new float[n];
            Q = new float[n * c.QDim];
            K = new float[n * c.KvDim];
            V = new float[n * c.KvDim];
            Probs = new float[probCapacity];
            Att = new float[n * c.QDim];
            X2 = new float[n * c.Dim];
            Xn2 = new float[n * c.Dim];
            Rstd2 = new float[n];
            Gate = new float[n * c.FeedForward];
            Up = new float[n * c.FeedForward];
            H = new float[n * c.FeedForward];
        }

        public float[] XIn { get; }   // [n, D] block input (residual)
        public float[] Xn1 { get; }   // [n, D] attention norm output
        public float[] Rstd1 { get; } // [n]
        public float[] Q { get; }     // [n, QD] roped queries
        public float[] K { get; }     // [n, KvD] roped keys
        public float[] V { get; }     // [n, KvD]
        public float[] Probs { get; } // Σ_s T_s² · heads attention probabilities
        public float[] Att { get; }   // [n, QD] attention output (before attn_output)
        public float[] X2 { get; }    // [n, D] residual after attention
        public float[] Xn2 { get; }   // [n, D] ffn norm output
        public float[] Rstd2 { get; } // [n]
        public float[] Gate { get; }  // [n, F]
        public float[] Up { get; }    // [n, F]
        public float[] H { get; }     // [n, F] silu(gate) · up
    }
}
