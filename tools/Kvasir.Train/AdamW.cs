namespace Kvasir.Train;

/// <summary>
/// AdamW (decoupled weight decay, on matrices only) with global-norm gradient clipping, over the flat
/// parameter array of a <see cref="ParameterSet"/>.
/// </summary>
internal sealed class AdamW(ParameterSet parameters, float beta1 = 0.9f, float beta2 = 0.95f, float eps = 1e-8f, float weightDecay = 0.1f)
{
    private readonly float[] _m = new float[parameters.Count]; // [Count] first moment
    private readonly float[] _v = new float[parameters.Count]; // [Count] second moment
    private readonly bool[] _decay = DecayMask(parameters);

    /// <summary>Steps taken.</summary>
    public int Step { get; private set; }

    public float[] FirstMoment => _m;

    public float[] SecondMoment => _v;

    /// <summary>Restores the step count of a checkpoint.</summary>
    public void Restore(int step) => Step = step;

    /// <summary>Clips the gradients to <paramref name="maxNorm"/> and updates; returns the norm before clipping.</summary>
    public float Update(float[] grads, float learningRate, float maxNorm)
    {
        double ss = 0;
        foreach (var g in grads)
        {
            ss += g * g;
        }

        var norm = (float)Math.Sqrt(ss);
        var clip = norm > maxNorm ? maxNorm / norm : 1f;
        Step++;
        var c1 = 1f / (1f - MathF.Pow(beta1, Step));
        var c2 = 1f / (1f - MathF.Pow(beta2, Step));
        var p = parameters.Values;
        var n = p.Length;
        var chunks = Environment.ProcessorCount * 4;
        Parallel.For(0, chunks, c =>
        {
            var i1 = (int)((long)n * (c + 1) / chunks);
            for (var i = (int)((long)n * c / chunks); i < i1; i++)
            {
                var g = grads[i] * clip;
                _m[i] = (beta1 * _m[i]) + ((1 - beta1) * g);
                _v[i] = (beta2 * _v[i]) + ((1 - beta2) * g * g);
                var update = _m[i] * c1 / (MathF.Sqrt(_v[i] * c2) + eps);
                if (_decay[i])
                {
                    update += weightDecay * p[i];
                }

                p[i] -= learningRate * update;
            }
        });

        return norm;
    }

    private static bool[] DecayMask(ParameterSet parameters)
    {
        var mask = new bool[parameters.Count];
        foreach (var t in parameters.Tensors)
        {
            Array.Fill(mask, t.Decay, t.Offset, t.Length);
        }

        return mask;
    }
}
