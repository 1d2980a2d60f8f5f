namespace Kvasir.Train.Layers;

/// <summary>SwiGLU: <c>h = silu(g) · u</c>, <c>silu(g) = g · σ(g)</c>.</summary>
internal static class SwiGluOp
{
    public static void Forward(float[] g, float[] u, float[] h, int count) =>
        VecMath.For(count, 8, (i0, i1) =>
        {
            for (var i = i0; i < i1; i++)
            {
                var sig = 1f / (1f + MathF.Exp(-g[i]));
                h[i] = g[i] * sig * u[i];
            }
        });

    /// <summary>dg, du = ∂L/∂g, ∂L/∂u (overwritten) given dh.</summary>
    public static void Backward(float[] dh, float[] g, float[] u, float[] dg, float[] du, int count) =>
        VecMath.For(count, 8, (i0, i1) =>
        {
            for (var i = i0; i < i1; i++)
            {
                var sig = 1f / (1f + MathF.Exp(-g[i]));
                var silu = g[i] * sig;
                du[i] = dh[i] * silu;
                dg[i] = dh[i] * u[i] * sig * (1f + (g[i] * (1f - sig)));
            }
        });
}
