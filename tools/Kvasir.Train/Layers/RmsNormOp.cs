namespace Kvasir.Train.Layers;

/// <summary>RMSNorm: <c>y = x · rstd · w</c>, <c>rstd = 1/√(mean(x²) + eps)</c>, per row of width d.</summary>
internal static unsafe class RmsNormOp
{
    /// <param name="x">[n, d] input.</param>
    /// <param name="w">[d] gain.</param>
    /// <param name="y">[n, d] output.</param>
    /// <param name="rstd">[n] saved for the backward pass.</param>
    /// <param name="n">Rows.</param>
    /// <param name="d">Row width.</param>
    /// <param name="eps">Epsilon.</param>
    public static void Forward(float[] x, ReadOnlySpan<float> w, float[] y, float[] rstd, int n, int d, float eps)
    {
        var wArr = w.ToArray();
        VecMath.For(n, d, (t0, t1) =>
        {
            for (var t = t0; t < t1; t++)
            {
                double ss = 0;
                var o = t * d;
                for (var i = 0; i < d; i++)
                {
                    ss += x[o + i] * x[o + i];
                }

                var r = (float)(1.0 / Math.Sqrt((ss / d) + eps));
                rstd[t] = r;
                for (var i = 0; i < d; i++)
                {
                    y[o + i] = x[o + i] * r * wArr[i];
                }
            }
        });
    }

    /// <summary>dx += ∂L/∂x, dw += ∂L/∂w given dy = ∂L/∂y.</summary>
    public static void Backward(float[] dy, float[] x, ReadOnlySpan<float> w, float[] rstd, float[] dx, Span<float> dw, int n, int d)
    {
        var wArr = w.ToArray();
        var chunks = Math.Max(1, Math.Min(n, Environment.ProcessorCount * 4));
        var partial = new double[chunks * d];
        Parallel.For(0, chunks, c =>
        {
            var t0 = (int)((long)n * c / chunks);
            var t1 = (int)((long)n * (c + 1) / chunks);
            var dwLocal = partial.AsSpan(c * d, d);
            for (var t = t0; t < t1; t++)
            {
                var o = t * d;
                var r = rstd[t];
                double dot = 0; // Σ dxhat · xhat
                for (var i = 0; i < d; i++)
                {
                    var xhat = x[o + i] * r;
                    dot += dy[o + i] * wArr[i] * xhat;
                    dwLocal[i] += dy[o + i] * xhat;
                }

                var mean = (float)(dot / d);
                for (var i = 0; i < d; i++)
                {
                    var xhat = x[o + i] * r;
                    dx[o + i] += r * ((dy[o + i] * wArr[i]) - (xhat * mean));
                }
            }
        });

        for (var c = 0; c < chunks; c++)
        {
            for (var i = 0; i < d; i++)
            {
                dw[i] += (float)partial[(c * d) + i];
            }
        }
    }
}
