using System.Diagnostics;
using Kvasir.Kernels;
using Kvasir.Kernels.Attention;
using Kvasir.Kernels.Quant;

namespace Kvasir.Model;

/// <summary>
/// The forward pass of the llama, qwen2 and qwen3 architectures over a flattened batch of tokens from
/// several sequences, reading and writing a paged KV cache. One instance per engine thread: it owns its
/// run state (activation buffers), which grows to the largest batch seen and is then reused.
/// </summary>
public sealed class Transformer
{
    private readonly ModelConfig _config;
    private readonly ModelWeights _weights;
    private readonly float[] _invFreq;  // [RopeDimensionCount / 2], linear scaling folded in
    private readonly float _attentionScale;
    private RunState _state;

    /// <summary>Binds the forward pass to a model's weights.</summary>
    /// <param name="config">Hyper-parameters.</param>
    /// <param name="weights">Weights.</param>
    /// <param name="activations">
    /// How matrix products treat activations: quantized to 8 bits per block for quantized weights as llama.cpp
    /// does (integer dot products; the default), or kept in float.
    /// </param>
    public Transformer(ModelConfig config, ModelWeights weights, MatMulActivations activations = MatMulActivations.Int8)
    {
        Activations = activations;
        _config = config;
        _weights = weights;
        _invFreq = Rope.InvFrequencies(config.RopeDimensionCount, config.RopeFreqBase, weights.RopeFreqFactors ?? []);
        if (config.RopeFreqScale != 1f)
        {
            for (var i = 0; i < _invFreq.Length; i++)
            {
                _invFreq[i] *= config.RopeFreqScale;
            }
        }

        _attentionScale = 1f / MathF.Sqrt(config.HeadDim);
        _state = new RunState(config, 0);
    }

    /// <summary>The model's hyper-parameters.</summary>
    public ModelConfig Config => _config;

    /// <summary>How matrix products treat activations.</summary>
    public MatMulActivations Activations { get; }

    /// <summary>
    /// Runs every token of <paramref name="batch"/> through the model: writes each token's K/V into its slot
    /// of <paramref name="kvLayers"/> (one view per layer) and writes the logits of the requested positions
    /// to <paramref name="logits"/> [NumLogits, VocabSize], in the order of <see cref="ForwardBatch.LogitIndices"/>.
    /// </summary>
    public void Forward(ForwardBatch batch, ReadOnlySpan<KvLayerView> kvLayers, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var c = _config;
        var n = batch.NumTokens;
        if (kvLayers.Length != c.BlockCount)
        {
            throw new ArgumentException($"Expected {c.BlockCount} KV layers, got {kvLayers.Length}.", nameof(kvLayers));
        }

        if (logits.Length < batch.NumLogits * c.VocabSize)
        {
            throw new ArgumentException($"The logits buffer holds {logits.Length} floats; {batch.NumLogits} × {c.VocabSize} are needed.", nameof(logits));
        }

        if (n == 0)
        {
            return;
        }

        if (_state.TokenCapacity < n)
        {
            _state = new RunState(c, n);
        }

        var st = _state;
        var dim = c.EmbeddingLength;
        var x = st.X.AsSpan(0, n * dim);
        Embed(batch.TokenIds, x);
        PlanAttention(batch);

        for (var l = 0; l < c.BlockCount; l++)
        {
            Attention(batch, _weights.Layers[l], kvLayers[l], n);
            FeedForward(_weights.Layers[l], n);
        }

        // Final norm and output projection, only for the positions asked for.
        var m = batch.NumLogits;
        var xn = st.Xn.AsSpan(0, m * dim);
        for (var i = 0; i < m; i++)
        {
            var t = batch.LogitIndices[i];
            Ops.RmsNorm(x.Slice(t * dim, dim), _weights.OutputNorm, xn.Slice(i * dim, dim), c.RmsNormEps);
        }

        var output = _weights.Output;
        MatMul.Compute(output.Type, output.Data, output.Rows, output.Columns, xn, logits[..(m * c.VocabSize)], m, KernelThreadPool.Shared, Activations);
    }

    private void Embed(ReadOnlySpan<int> tokens, Span<float> x)
    {
        var dim = _config.EmbeddingLength;
        var embedding = _weights.TokenEmbedding;
        for (var t = 0; t < tokens.Length; t++)
        {
            var id = tokens[t];
            if ((uint)id >= (uint)embedding.Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), id, $"Token id {id} is outside the vocabulary (0..{embedding.Rows - 1}).");
            }

            Dequantize.Row(embedding.Type, embedding.Row(id), x.Slice(t * dim, dim));
        }
    }

    private void Attention(ForwardBatch batch, LayerWeights w, in KvLayerView kv, int n)
    {
        var c = _config;
        var st = _state;
        var dim = c.EmbeddingLength;
        var qw = c.QueryWidth;
        var kvw = c.KvWidth;
        var x = st.X.AsSpan(0, n * dim);
        var xn = st.Xn.AsSpan(0, n * dim);
        var q = st.Q.AsSpan(0, n * qw);
        var k = st.K.AsSpan(0, n * kvw);
        var v = st.V.AsSpan(0, n * kvw);
        var att = st.Att.AsSpan(0, n * qw);

        for (var t = 0; t < n; t++)
        {
            Ops.RmsNorm(x.Slice(t * dim, dim), w.AttnNorm, xn.Slice(t * dim, dim), c.RmsNormEps);
        }

        // Q, K and V as one pool job: one barrier instead of three, and the normalized input quantized once.
        MatMul.ComputeGroup(
            xn, dim, n, KernelThreadPool.Shared, Activations, Product(w.Wq, q, n), Product(w.Wk, k, n), Product(w.Wv, v, n));

        var positions = batch.Positions;
        var slots = batch.SlotMapping;
        for (var t = 0; t < n; t++)
        {
            var qt = q.Slice(t * qw, qw);
            var kt = k.Slice(t * kvw, kvw);
            var vt = v.Slice(t * kvw, kvw);
            if (w.BiasQ is not null)
            {
                Ops.Add(qt, w.BiasQ, qt);
                Ops.Add(kt, w.BiasK, kt);
                Ops.Add(vt, w.BiasV, vt);
            }

            if (w.QNorm is not null)
            {
                for (var h = 0; h < c.HeadCount; h++)
                {
                    var head = qt.Slice(h * c.HeadDim, c.HeadDim);
                    Ops.RmsNorm(head, w.QNorm, head, c.RmsNormEps);
                }

                for (var h = 0; h < c.HeadCountKv; h++)
                {
                    var head = kt.Slice(h * c.HeadDim, c.HeadDim);
                    Ops.RmsNorm(head, w.KNorm, head, c.RmsNormEps);
                }
            }

            if (c.RopeNeox)
            {
                Rope.ApplyNeox(qt, c.HeadCount, c.HeadDim, positions[t], _invFreq);
                Rope.ApplyNeox(kt, c.HeadCountKv, c.HeadDim, positions[t], _invFreq);
            }
            else
            {
                Rope.ApplyNormal(qt, c.HeadCount, c.HeadDim, positions[t], _invFreq);
                Rope.ApplyNormal(kt, c.HeadCountKv, c.HeadDim, positions[t], _invFreq);
            }

            PagedAttention.WriteKv(kv, slots[t], kt, vt);
        }

        // Every token's K/V of this batch is stored before any token attends (causality comes from kvLen); the
        // tokens' query groups then run in parallel, one pool chunk per (token, KV head).
        PagedAttention.AttendBatch(kv, q, c.HeadCount, st.Tables.AsSpan(0, st.TablesLength), st.TableStart.AsSpan(0, n),
            st.KvLen.AsSpan(0, n), _attentionScale, att, KernelThreadPool.Shared);

        // x += att · Woᵀ
        var o = st.Xn.AsSpan(0, n * dim);
        Project(w.Wo, att, o, n);
        Ops.Add(x, o, x);
    }

    /// <summary>
    /// Lays the batch's block tables end to end and gives each token its table's start and the length it attends to
    /// (its sequence's KV before the batch plus itself and the batch tokens before it), once for all layers.
    /// </summary>
    private void PlanAttention(ForwardBatch batch)
    {
        var st = _state;
        var total = 0;
        for (var s = 0; s < batch.NumSeqs; s++)
        {
            total += batch.BlockTable(s).Length;
        }

        if (st.Tables.Length < total)
        {
            st.Tables = new int[Math.Max(total, st.Tables.Length * 2)];
        }

        var offset = 0;
        for (var s = 0; s < batch.NumSeqs; s++)
        {
            var table = batch.BlockTable(s);
            table.CopyTo(st.Tables, offset);
            var start = batch.SeqTokenStart[s];
            for (var t = start; t < batch.SeqTokenStart[s + 1]; t++)
            {
                st.TableStart[t] = offset;
                st.KvLen[t] = batch.SeqKvLenBefore[s] + (t - start) + 1;
            }

            offset += table.Length;
        }

        st.TablesLength = total;
    }

    private void FeedForward(LayerWeights w, int n)
    {
        var c = _config;
        var st = _state;
        var dim = c.EmbeddingLength;
        var ffn = c.FeedForwardLength;
        var x = st.X.AsSpan(0, n * dim);
        var xn = st.Xn.AsSpan(0, n * dim);
        var gate = st.Gate.AsSpan(0, n * ffn);
        var up = st.Up.AsSpan(0, n * ffn);
        for (var t = 0; t < n; t++)
        {
            Ops.RmsNorm(x.Slice(t * dim, dim), w.FfnNorm, xn.Slice(t * dim, dim), c.RmsNormEps);
        }

        MatMul.ComputeGroup(xn, dim, n, KernelThreadPool.Shared, Activations, Product(w.WGate, gate, n), Product(w.WUp, up, n));
        Ops.SwiGlu(gate, up, gate);
        Project(w.WDown, gate, xn, n);
        Ops.Add(x, xn, x);
    }

    private MatMulProduct Product(in WeightMatrix w, Span<float> output, int n)
    {
        Debug.Assert(w.Columns == _config.EmbeddingLength, "Grouped projections all read the normalized residual stream.");
        return new(w.Type, w.Data, w.Rows, output[..(n * w.Rows)]);
    }

    private void Project(in WeightMatrix w, ReadOnlySpan<float> input, Span<float> output, int n)
        => MatMul.Compute(w.Type, w.Data, w.Rows, w.Columns, input[..(n * w.Columns)], output[..(n * w.Rows)], n, KernelThreadPool.Shared, Activations);

    /// <summary>Activation buffers, sized for a number of tokens.</summary>
    private sealed class RunState
    {
        public RunState(ModelConfig c, int tokens)
        {
            TokenCapacity = tokens;
            X = new float[tokens * c.EmbeddingLength];
            Xn = new float[tokens * Math.Max(c.EmbeddingLength, c.QueryWidth)];
            Q = new float[tokens * c.QueryWidth];
            K = new float[tokens * c.KvWidth];
            V = new float[tokens * c.KvWidth];
            Att = new float[tokens * c.QueryWidth];
            Gate = new float[tokens * c.FeedForwardLength];
            Up = new float[tokens * c.FeedForwardLength];
            TableStart = new int[tokens];
            KvLen = new int[tokens];
        }

        public int TokenCapacity { get; }

        public float[] X { get; }             // [tokens, dim] residual stream

        public float[] Xn { get; }            // [tokens, max(dim, qw)] normed input / projection output

        public float[] Q { get; }             // [tokens, HeadCount*HeadDim]

        public float[] K { get; }             // [tokens, HeadCountKv*HeadDim]

        public float[] V { get; }             // [tokens, HeadCountKv*HeadDim]

        public float[] Att { get; }           // [tokens, HeadCount*HeadDim] attention output

        public float[] Gate { get; }          // [tokens, ffn]

        public float[] Up { get; }            // [tokens, ffn]

        public int[] Tables { get; set; } = new int[64]; // the batch's block tables end to end

        public int TablesLength { get; set; }

        public int[] TableStart { get; }      // [tokens] where each token's block table starts in Tables

        public int[] KvLen { get; }           // [tokens] how many tokens each token attends to
    }
}
