namespace Kvasir.Train.Layers;

/// <summary>
/// Causal multi-head attention with grouped KV heads over a batch of independent sequences laid end to end:
/// <c>out[i] = Σ_{j≤i} softmax_j(q[i]·k[j] / √headDim) v[j]</c> per head. Scores and products are
/// <see cref="Gemm"/> calls per (sequence, head); the probabilities are kept for the backward pass
/// (sequence s of length T uses T² floats per head at its offset).
/// </summary>
/// <remarks>Per-pair dot products with a horizontal sum ran at ~2 GFLOP/s; the GEMM form at ~20.</remarks>
internal static unsafe class AttentionOp
{
    /// <summary>Floats of probability storage a batch of sequences needs.</summary>
    public static long ProbCount(IReadOnlyList<SeqSpan> seqs, int heads)
    {
        long total = 0;
        foreach (var s in seqs)
        {
            total += (long)s.Length * s.Length * heads;
        }

        return total;
    }

    /// <param name="q">[n, heads·hd] (roped).</param>
    /// <param name="k">[n, kvHeads·hd] (roped).</param>
    /// <param name="v">[n, kvHeads·hd].</param>
    /// <param name="seqs">The sequences of the batch.</param>
    /// <param name="probs">Probability storage (<see cref="ProbCount"/>).</param>
    /// <param name="output">[n, heads·hd].</param>
    /// <param name="heads">Query heads.</param>
    /// <param name="kvHeads">Key/value heads.</param>
    /// <param name="hd">Head dim.</param>
    public static void Forward(float[] q, float[] k, float[] v, IReadOnlyList<SeqSpan> seqs, float[] probs, float[] output, int heads, int kvHeads, int hd)
    {
        var offsets = Offsets(seqs, heads);
        var scale = 1f / MathF.Sqrt(hd);
        var group = heads / kvHeads;
        int qw = heads * hd, kw = kvHeads * hd;
        var maxT = MaxLength(seqs);
        Parallel.For(0, seqs.Count * heads, () => new float[hd * maxT], (job, _, kt) =>
        {
            var s = job / heads;
            var h = job % heads;
            var kh = h / group;
            var seq = seqs[s];
            var T = seq.Length;
            fixed (float* qp = q, kp = k, vp = v, pp = probs, op = output, ktp = kt)
            {
                var kh0 = kp + ((long)seq.Start * kw) + (kh * hd);
                TransposeHead(kh0, kw, ktp, T, hd);
                var p = pp + offsets[s] + ((long)h * T * T);
                Gemm.Multiply(qp + ((long)seq.Start * qw) + (h * hd), qw, 1, ktp, T, p, T, T, T, hd, false, false, GemmCausal.Columns);
                for (var i = 0; i < T; i++)
                {
                    var row = p + ((long)i * T);
                    var max = float.NegativeInfinity;
                    for (var j = 0; j <= i; j++)
                    {
                        max = MathF.Max(max, row[j]);
                    }

                    var sum = 0f;
                    for (var j = 0; j <= i; j++)
                    {
                        var e = MathF.Exp((row[j] - max) * scale);
                        row[j] = e;
                        sum += e;
                    }

                    var inv = 1f / sum;
                    for (var j = 0; j <= i; j++)
                    {
                        row[j] *= inv;
                    }

                    new Span<float>(row + i + 1, T - i - 1).Clear();
                }

                Gemm.Multiply(p, T, 1, vp + ((long)seq.Start * kw) + (kh * hd), kw, op + ((long)seq.Start * qw) + (h * hd), qw, T, hd, T, false, false, GemmCausal.Inner);
            }

            return kt;
        }, _ => { });
    }

    /// <summary>dq, dk, dv (overwritten) given dOutput.</summary>
    public static void Backward(
        float[] dOutput, float[] q, float[] k, float[] v, IReadOnlyList<SeqSpan> seqs, float[] probs, float[] dq, float[] dk, float[] dv,
        int heads, int kvHeads, int hd)
    {
        var offsets = Offsets(seqs, heads);
        var scale = 1f / MathF.Sqrt(hd);
        var group = heads / kvHeads;
        int qw = heads * hd, kw = kvHeads * hd;
        var maxT = MaxLength(seqs);

        // One job per (sequence, kv head): it owns the dk/dv rows of that head, so no two jobs write the same floats.
        Parallel.For(0, seqs.Count * kvHeads, () => (new float[hd * maxT], new float[(long)maxT * maxT]), (job, _, scratch) =>
        {
            var (vtArray, dsArray) = scratch;
            var s = job / kvHeads;
            var kh = job % kvHeads;
            var seq = seqs[s];
            var T = seq.Length;
            fixed (float* qp = q, kp = k, vp = v, pp = probs, dop = dOutput, dqp = dq, dkp = dk, dvp = dv, vt = vtArray, ds = dsArray)
            {
                var k0 = kp + ((long)seq.Start * kw) + (kh * hd);
                var v0 = vp + ((long)seq.Start * kw) + (kh * hd);
                TransposeHead(v0, kw, vt, T, hd);
                for (var h = kh * group; h < (kh + 1) * group; h++)
                {
                    var p = pp + offsets[s] + ((long)h * T * T);
                    var q0 = qp + ((long)seq.Start * qw) + (h * hd);
                    var do0 = dop + ((long)seq.Start * qw) + (h * hd);
                    var first = h == kh * group;

                    // dP = dO · Vᵀ, then dS = P ⊙ (dP − Σ_j P dP) · scale, in place.
                    Gemm.Multiply(do0, qw, 1, vt, T, ds, T, T, T, hd, false, false, GemmCausal.Columns);
                    for (var i = 0; i < T; i++)
                    {
                        var pr = p + ((long)i * T);
                        var dr = ds + ((long)i * T);
                        var dot = 0f;
                        for (var j = 0; j <= i; j++)
                        {
                            dot += pr[j] * dr[j];
                        }

                        for (var j = 0; j <= i; j++)
                        {
                            dr[j] = pr[j] * (dr[j] - dot) * scale;
                        }

                        new Span<float>(dr + i + 1, T - i - 1).Clear();
                    }

                    Gemm.Multiply(ds, T, 1, k0, kw, dqp + ((long)seq.Start * qw) + (h * hd), qw, T, hd, T, false, false, GemmCausal.Inner);
                    Gemm.Multiply(ds, 1, T, q0, qw, dkp + ((long)seq.Start * kw) + (kh * hd), kw, T, hd, T, !first, false, GemmCausal.None);
                    Gemm.Multiply(p, 1, T, do0, qw, dvp + ((long)seq.Start * kw) + (kh * hd), kw, T, hd, T, !first, false, GemmCausal.None);
                }
            }

            return scratch;
        }, _ => { });
    }

    // dst[d, j] = src[j · stride + d] for j < T, d < hd.
    private static void TransposeHead(float* src, int stride, float* dst, int T, int hd)
    {
        for (var j = 0; j < T; j++)
        {
            var row = src + ((long)j * stride);
            for (var d = 0; d < hd; d++)
            {
                dst[((long)d * T) + j] = row[d];
            }
        }
    }

    private static int MaxLength(IReadOnlyList<SeqSpan> seqs)
    {
        var maxT = 1;
        foreach (var s in seqs)
        {
            maxT = Math.Max(maxT, s.Length);
        }

        return maxT;
    }

    private static long[] Offsets(IReadOnlyList<SeqSpan> seqs, int heads)
    {
        var offsets = new long[seqs.Count];
        long total = 0;
        for (var s = 0; s < seqs.Count; s++)
        {
            offsets[s] = total;
            total += (long)seqs[s].Length * seqs[s].Length * heads;
        }

        return offsets;
    }
}

/// <summary>One sequence of a training batch: tokens [Start, Start + Length) of the flattened batch, positions from 0.</summary>
internal readonly record struct SeqSpan(int Start, int Length);
