namespace Kvasir.Train.Layers;

/// <summary>Softmax cross-entropy over the vocabulary with a weight per position (0 = not scored).</summary>
internal static class CrossEntropyOp
{
    /// <summary>
    /// Returns Σ_t weights[t] · −log softmax(logits[t])[targets[t]] and replaces logits by its gradient times
    /// <paramref name="gradScale"/>: <c>weights[t] · (softmax − onehot) · gradScale</c>.
    /// </summary>
    public static double LossAndGradient(float[] logits, int[] targets, float[] weights, int n, int vocab, float gradScale)
    {
        var losses = new double[n];
        VecMath.For(n, vocab * 4, (t0, t1) =>
        {
            for (var t = t0; t < t1; t++)
            {
                var row = logits.AsSpan(t * vocab, vocab);
                var max = float.NegativeInfinity;
                for (var i = 0; i < vocab; i++)
                {
                    max = MathF.Max(max, row[i]);
                }

                var w = weights[t];
                var target = targets[t];
                var targetLogit = row[target];
                double sum = 0;
                for (var i = 0; i < vocab; i++)
                {
                    var e = MathF.Exp(row[i] - max);
                    row[i] = e;
                    sum += e;
                }

                losses[t] = w == 0 ? 0 : -w * (targetLogit - max - Math.Log(sum));
                var scale = (float)(w * gradScale / sum);
                for (var i = 0; i < vocab; i++)
                {
                    row[i] *= scale;
                }

                row[target] -= w * gradScale;
            }
        });

        double total = 0;
        foreach (var l in losses)
        {
            total += l;
        }

        return total;
    }
}
