using Kvasir.Train.Layers;

namespace Kvasir.Train;

internal sealed partial class LlamaTrainer
{
    private void Forward(TrainBatch batch)
    {
        _n = batch.NumTokens;
        if (_n > TokenCapacity)
        {
            throw new ArgumentException($"The batch has {_n} tokens; the trainer holds {TokenCapacity}.", nameof(batch));
        }

        if (AttentionOp.ProbCount(batch.Seqs, _c.Heads) > _layers[0].Probs.Length)
        {
            throw new ArgumentException("The batch's sequences need more attention storage than allocated.", nameof(batch));
        }

        _tokens = [.. batch.Tokens];
        _targets = [.. batch.Targets];
        _weights = [.. batch.Weights];
        _positions = [.. batch.Positions];
        _seqs = batch.Seqs;
        TransposeMatrices();

        int n = _n, d = _c.Dim, f = _c.FeedForward;
        var tmp = _dXn; // scratch during the forward pass
        EmbeddingOp.Forward(W("token_embd.weight"), _tokens, _layers[0].XIn, n, d);
        for (var l = 0; l < _c.Layers; l++)
        {
            var a = _layers[l];
            var p = $"blk.{l}.";
            RmsNormOp.Forward(a.XIn, W(p + "attn_norm.weight"), a.Xn1, a.Rstd1, n, d, _c.NormEps);
            LinearOp.Forward(a.Xn1, Wt(p + "attn_q.weight"), a.Q, n, d, _c.QDim);
            LinearOp.Forward(a.Xn1, Wt(p + "attn_k.weight"), a.K, n, d, _c.KvDim);
            LinearOp.Forward(a.Xn1, Wt(p + "attn_v.weight"), a.V, n, d, _c.KvDim);
            _rope.Apply(a.Q, _positions, n, _c.Heads, inverse: false);
            _rope.Apply(a.K, _positions, n, _c.KvHeads, inverse: false);
            AttentionOp.Forward(a.Q, a.K, a.V, _seqs, a.Probs, a.Att, _c.Heads, _c.KvHeads, _c.HeadDim);
            LinearOp.Forward(a.Att, Wt(p + "attn_output.weight"), tmp, n, _c.QDim, d);
            Add(a.XIn, tmp, a.X2, n * d);
            RmsNormOp.Forward(a.X2, W(p + "ffn_norm.weight"), a.Xn2, a.Rstd2, n, d, _c.NormEps);
            LinearOp.Forward(a.Xn2, Wt(p + "ffn_gate.weight"), a.Gate, n, d, f);
            LinearOp.Forward(a.Xn2, Wt(p + "ffn_up.weight"), a.Up, n, d, f);
            SwiGluOp.Forward(a.Gate, a.Up, a.H, n * f);
            LinearOp.Forward(a.H, Wt(p + "ffn_down.weight"), tmp, n, f, d);
            Add(a.X2, tmp, l + 1 < _c.Layers ? _layers[l + 1].XIn : _xF, n * d);
        }

        RmsNormOp.Forward(_xF, W("output_norm.weight"), _xnF, _rstdF, n, d, _c.NormEps);
        LinearOp.Forward(_xnF, Wt(OutputName), _logits, n, d, _c.VocabSize);
    }

    private string OutputName => _c.TiedEmbeddings ? "token_embd.weight" : "output.weight";

    private void TransposeMatrices()
    {
        Parallel.ForEach(Params.Tensors, t =>
        {
            if (t.Rows > 1)
            {
                Gemm.Transpose(Params.Of(t), _transposed.AsSpan(t.Offset, t.Length), t.Rows, t.Cols);
            }
        });
    }

    private static void Add(float[] a, float[] b, float[] dst, int count)
    {
        for (var i = 0; i < count; i++)
        {
            dst[i] = a[i] + b[i];
        }
    }
}
