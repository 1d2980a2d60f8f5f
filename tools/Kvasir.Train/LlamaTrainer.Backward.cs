using Kvasir.Train.Layers;

namespace Kvasir.Train;

internal sealed partial class LlamaTrainer
{
    // Runs after the loss has replaced _logits by dLoss/dlogits.
    private void Backward()
    {
        int n = _n, d = _c.Dim, f = _c.FeedForward;
        Array.Clear(_dX, 0, n * d);
        LinearOp.Backward(_logits, _xnF, W(OutputName), _dXn, G(OutputName), n, d, _c.VocabSize, accumulateDx: false);
        RmsNormOp.Backward(_dXn, _xF, W("output_norm.weight"), _rstdF, _dX, G("output_norm.weight"), n, d);
        for (var l = _c.Layers - 1; l >= 0; l--)
        {
            var a = _layers[l];
            var p = $"blk.{l}.";

            // out = X2 + H · Wdownᵀ
            LinearOp.Backward(_dX, a.H, W(p + "ffn_down.weight"), _dH, G(p + "ffn_down.weight"), n, f, d, accumulateDx: false);
            SwiGluOp.Backward(_dH, a.Gate, a.Up, _dG, _dU, n * f);
            LinearOp.Backward(_dG, a.Xn2, W(p + "ffn_gate.weight"), _dXn, G(p + "ffn_gate.weight"), n, d, f, accumulateDx: false);
            LinearOp.Backward(_dU, a.Xn2, W(p + "ffn_up.weight"), _dXn, G(p + "ffn_up.weight"), n, d, f, accumulateDx: true);
            RmsNormOp.Backward(_dXn, a.X2, W(p + "ffn_norm.weight"), a.Rstd2, _dX, G(p + "ffn_norm.weight"), n, d);

            // X2 = XIn + Att · Woᵀ
            LinearOp.Backward(_dX, a.Att, W(p + "attn_output.weight"), _dAtt, G(p + "attn_output.weight"), n, _c.QDim, d, accumulateDx: false);
            AttentionOp.Backward(_dAtt, a.Q, a.K, a.V, _seqs, a.Probs, _dQ, _dK, _dV, _c.Heads, _c.KvHeads, _c.HeadDim);
            _rope.Apply(_dQ, _positions, n, _c.Heads, inverse: true);
            _rope.Apply(_dK, _positions, n, _c.KvHeads, inverse: true);
            LinearOp.Backward(_dQ, a.Xn1, W(p + "attn_q.weight"), _dXn, G(p + "attn_q.weight"), n, d, _c.QDim, accumulateDx: false);
            LinearOp.Backward(_dK, a.Xn1, W(p + "attn_k.weight"), _dXn, G(p + "attn_k.weight"), n, d, _c.KvDim, accumulateDx: true);
            LinearOp.Backward(_dV, a.Xn1, W(p + "attn_v.weight"), _dXn, G(p + "attn_v.weight"), n, d, _c.KvDim, accumulateDx: true);
            RmsNormOp.Backward(_dXn, a.XIn, W(p + "attn_norm.weight"), a.Rstd1, _dX, G(p + "attn_norm.weight"), n, d);
        }

        EmbeddingOp.Backward(_dX, _tokens, G("token_embd.weight"), n, d);
    }
}
