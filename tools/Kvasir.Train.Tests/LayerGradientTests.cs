using Kvasir.Train.Layers;

namespace Kvasir.Train.Tests;

/// <summary>Every layer's backward pass against finite differences of its forward pass.</summary>
public class LayerGradientTests
{
    [Fact]
    public void Embedding()
    {
        int vocab = 7, d = 16, n = 9;
        var table = GradientCheck.Random(vocab * d, 1);
        int[] tokens = [3, 0, 3, 6, 1, 3, 2, 5, 0];
        var r = GradientCheck.Random(n * d, 2);
        var x = new float[n * d];
        double Loss()
        {
            EmbeddingOp.Forward(table, tokens, x, n, d);
            return GradientCheck.Dot(x, r);
        }

        var grad = new float[vocab * d];
        EmbeddingOp.Backward(r, tokens, grad, n, d);
        GradientCheck.AssertClose(grad, GradientCheck.Numeric(table, Loss), "embedding");
    }

    [Fact]
    public void RmsNorm()
    {
        int n = 5, d = 24;
        var x = GradientCheck.Random(n * d, 3);
        var w = GradientCheck.Random(d, 4);
        var r = GradientCheck.Random(n * d, 5);
        var y = new float[n * d];
        var rstd = new float[n];
        double Loss()
        {
            RmsNormOp.Forward(x, w, y, rstd, n, d, 1e-5f);
            return GradientCheck.Dot(y, r);
        }

        Loss();
        var dx = new float[n * d];
        var dw = new float[d];
        RmsNormOp.Backward(r, x, w, rstd, dx, dw, n, d);
        GradientCheck.AssertClose(dx, GradientCheck.Numeric(x, Loss), "rmsnorm dx");
        GradientCheck.AssertClose(dw, GradientCheck.Numeric(w, Loss), "rmsnorm dw");
    }

    [Theory]
    [InlineData(3, 16, 5)]    // tails only
    [InlineData(37, 48, 40)]  // 4×16 tiles, a partial row block, odd tokens
    public void Linear(int n, int inDim, int outDim)
    {
        var x = GradientCheck.Random(n * inDim, 6);
        var w = GradientCheck.Random(outDim * inDim, 7);
        var r = GradientCheck.Random(n * outDim, 8);
        var y = new float[n * outDim];
        var wt = new float[inDim * outDim];
        double Loss()
        {
            Gemm.Transpose(w, wt, outDim, inDim);
            LinearOp.Forward(x, wt, y, n, inDim, outDim);
            return GradientCheck.Dot(y, r);
        }

        var dx = new float[n * inDim];
        var dw = new float[outDim * inDim];
        LinearOp.Backward(r, x, w, dx, dw, n, inDim, outDim, accumulateDx: false);
        var ix = GradientCheck.Sample(x.Length, 150, 1);
        var iw = GradientCheck.Sample(w.Length, 150, 2);
        GradientCheck.AssertClose(dx, GradientCheck.Numeric(x, Loss, ix), "linear dx", ix);
        GradientCheck.AssertClose(dw, GradientCheck.Numeric(w, Loss, iw), "linear dw", iw);
    }

    [Fact]
    public void Rope()
    {
        int n = 6, heads = 2, hd = 16;
        var rope = new RopeOp(hd, 10000f, 64);
        int[] positions = [0, 1, 2, 17, 40, 63];
        var x = GradientCheck.Random(n * heads * hd, 9);
        var r = GradientCheck.Random(n * heads * hd, 10);
        var y = new float[x.Length];
        double Loss()
        {
            x.CopyTo(y, 0);
            rope.Apply(y, positions, n, heads, inverse: false);
            return GradientCheck.Dot(y, r);
        }

        var dx = (float[])r.Clone();
        rope.Apply(dx, positions, n, heads, inverse: true);
        GradientCheck.AssertClose(dx, GradientCheck.Numeric(x, Loss), "rope");
    }

    [Theory]
    [InlineData(8, 4, 2)]   // GQA, head dim below a 16-column tile
    [InlineData(16, 2, 2)]  // MHA, whole tiles
    public void Attention(int hd, int heads, int kvHeads)
    {
        SeqSpan[] seqs = [new(0, 5), new(5, 37)]; // 37 > one 32-row block
        var n = 42;
        var q = GradientCheck.Random(n * heads * hd, 11);
        var k = GradientCheck.Random(n * kvHeads * hd, 12);
        var v = GradientCheck.Random(n * kvHeads * hd, 13);
        var r = GradientCheck.Random(n * heads * hd, 14);
        var probs = new float[AttentionOp.ProbCount(seqs, heads)];
        var o = new float[n * heads * hd];
        double Loss()
        {
            AttentionOp.Forward(q, k, v, seqs, probs, o, heads, kvHeads, hd);
            return GradientCheck.Dot(o, r);
        }

        Loss();
        var dq = new float[q.Length];
        var dk = new float[k.Length];
        var dv = new float[v.Length];
        AttentionOp.Backward(r, q, k, v, seqs, probs, dq, dk, dv, heads, kvHeads, hd);
        // Every token of the short sequence and a sample of the long one.
        foreach (var (name, x, g) in new[] { ("dq", q, dq), ("dk", k, dk), ("dv", v, dv) })
        {
            var width = x.Length / n;
            var indices = Enumerable.Range(0, 5 * width).Concat(GradientCheck.Sample(x.Length - (5 * width), 120, 3).Select(i => i + (5 * width))).ToArray();
            GradientCheck.AssertClose(g, GradientCheck.Numeric(x, Loss, indices), "attention " + name, indices);
        }
    }

    [Fact]
    public void AttentionIsCausal()
    {
        // Changing a later token must not change an earlier output; sequences must not see each other.
        int hd = 8, heads = 2, n = 12;
        SeqSpan[] seqs = [new(0, 6), new(6, 6)];
        var q = GradientCheck.Random(n * heads * hd, 15);
        var k = GradientCheck.Random(n * heads * hd, 16);
        var v = GradientCheck.Random(n * heads * hd, 17);
        var probs = new float[AttentionOp.ProbCount(seqs, heads)];
        var before = new float[n * heads * hd];
        AttentionOp.Forward(q, k, v, seqs, probs, before, heads, heads, hd);
        for (var i = 4 * heads * hd; i < 8 * heads * hd; i++)
        {
            k[i] += 1f;
            v[i] -= 1f;
        }

        var after = new float[n * heads * hd];
        AttentionOp.Forward(q, k, v, seqs, probs, after, heads, heads, hd);
        Assert.Equal(before.AsSpan(0, 4 * heads * hd).ToArray(), after.AsSpan(0, 4 * heads * hd).ToArray());
        Assert.NotEqual(before.AsSpan(4 * heads * hd, heads * hd).ToArray(), after.AsSpan(4 * heads * hd, heads * hd).ToArray());
    }

    [Fact]
    public void SwiGlu()
    {
        var count = 40;
        var g = GradientCheck.Random(count, 18, 3f);
        var u = GradientCheck.Random(count, 19, 3f);
        var r = GradientCheck.Random(count, 20);
        var h = new float[count];
        double Loss()
        {
            SwiGluOp.Forward(g, u, h, count);
            return GradientCheck.Dot(h, r);
        }

        var dg = new float[count];
        var du = new float[count];
        SwiGluOp.Backward(r, g, u, dg, du, count);
        GradientCheck.AssertClose(dg, GradientCheck.Numeric(g, Loss), "swiglu dg");
        GradientCheck.AssertClose(du, GradientCheck.Numeric(u, Loss), "swiglu du");
    }

    [Fact]
    public void CrossEntropy()
    {
        int n = 4, vocab = 11;
        var logits = GradientCheck.Random(n * vocab, 21, 4f);
        int[] targets = [3, 0, 10, 7];
        float[] weights = [1f, 0f, 2.5f, 1f];
        double Loss() => CrossEntropyOp.LossAndGradient((float[])logits.Clone(), targets, weights, n, vocab, 0f);

        var grad = (float[])logits.Clone();
        var loss = CrossEntropyOp.LossAndGradient(grad, targets, weights, n, vocab, 1f);
        GradientCheck.AssertClose(grad, GradientCheck.Numeric(logits, Loss), "cross-entropy");

        // The loss itself: −log softmax at the target, weighted.
        double expected = 0;
        for (var t = 0; t < n; t++)
        {
            var row = logits.AsSpan(t * vocab, vocab);
            double sum = 0;
            foreach (var x in row)
            {
                sum += Math.Exp(x);
            }

            expected += weights[t] * -(row[targets[t]] - Math.Log(sum));
        }

        Assert.Equal(expected, loss, 4);
    }

    [Theory]
    [InlineData(1, false, 5, 7, 3, true)]
    [InlineData(37, false, 300, 40, 35, false)]
    [InlineData(5, true, 5, 33, 20, true)]
    [InlineData(70, true, 9, 64, 21, false)]
    public void GemmMatchesReference(int m, bool transposeA, int k, int n, int seed, bool accumulate)
    {
        var a = GradientCheck.Random(m * k, seed);
        var b = GradientCheck.Random(k * n, seed + 1);
        var c = GradientCheck.Random(m * n, seed + 2);
        var expected = (float[])c.Clone();
        int ars = transposeA ? 1 : k, acs = transposeA ? m : 1;
        Gemm.MultiplyReference(a, ars, acs, b, n, expected, n, m, n, k, accumulate);
        Gemm.Multiply(a, ars, acs, b, n, c, n, m, n, k, accumulate);
        for (var i = 0; i < c.Length; i++)
        {
            Assert.True(Math.Abs(c[i] - expected[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"C[{i}] = {c[i]}, expected {expected[i]}");
        }
    }
}
