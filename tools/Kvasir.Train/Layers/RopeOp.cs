using Kvasir.Kernels;

namespace Kvasir.Train.Layers;

/// <summary>
/// "Normal" RoPE as llama.cpp's llama architecture applies it: adjacent pairs <c>(x[2i], x[2i+1])</c> of each
/// head rotate by <c>position · invFreq[i]</c>, with Kvasir's <see cref="Rope.InvFrequencies"/>.
/// </summary>
internal sealed class RopeOp
{
    private readonly float[] _cos; // [maxPositions, headDim / 2]
    private readonly float[] _sin; // [maxPositions, headDim / 2]
    private readonly int _half;

    public RopeOp(int headDim, float freqBase, int maxPositions)
    {
        _half = headDim / 2;
        var inv = Rope.InvFrequencies(headDim, freqBase, []);
        _cos = new float[maxPositions * _half];
        _sin = new float[maxPositions * _half];
        for (var p = 0; p < maxPositions; p++)
        {
            for (var i = 0; i < _half; i++)
            {
                var angle = p * inv[i];
                _cos[(p * _half) + i] = MathF.Cos(angle);
                _sin[(p * _half) + i] = MathF.Sin(angle);
            }
        }
    }

    /// <summary>Rotates x [n, heads·headDim] in place (inverse = the backward pass).</summary>
    public void Apply(float[] x, int[] positions, int n, int heads, bool inverse)
    {
        var width = heads * _half * 2;
        var sign = inverse ? -1f : 1f;
        VecMath.For(n, width, (t0, t1) =>
        {
            for (var t = t0; t < t1; t++)
            {
                var table = positions[t] * _half;
                for (var h = 0; h < heads; h++)
                {
                    var o = (t * width) + (h * _half * 2);
                    for (var i = 0; i < _half; i++)
                    {
                        var c = _cos[table + i];
                        var s = sign * _sin[table + i];
                        var x0 = x[o + (2 * i)];
                        var x1 = x[o + (2 * i) + 1];
                        x[o + (2 * i)] = (x0 * c) - (x1 * s);
                        x[o + (2 * i) + 1] = (x0 * s) + (x1 * c);
                    }
                }
            }
        });
    }
}
