using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels;

/// <summary>
/// Rotary position embedding (RoPE) applied in place to the query or key vectors of one token.
/// </summary>
/// <remarks>
/// <para>Pair i of each head is rotated by the angle <c>θ_i = position · invFreq[i]</c>, computed in float,
/// then <c>cos θ</c> and <c>sin θ</c> in float (<see cref="MathF"/>), as llama.cpp does. llama.cpp builds
/// <c>freq_base^(-2i/rotDim)</c> by repeated float multiplication; <see cref="InvFrequencies"/> rounds
/// each frequency once from double instead, so angles agree to a few float ulps.</para>
/// <para>Dimensions past <c>rotDim = 2 · invFreq.Length</c> are left unchanged (partial rotary).</para>
/// </remarks>
public static class Rope
{
    /// <summary>Pairs whose cos/sin are computed together on the stack.</summary>
    private const int PairsPerPass = 256;

    /// <summary>
    /// <c>invFreq[i] = freqBase^(-2i / rotDim) / freqFactors[i]</c> for i &lt; rotDim / 2 (computed in double,
    /// rounded once to float). Call once at load; multiply the result for linear rope scaling.
    /// </summary>
    /// <param name="rotDim">Rotated dimensions per head (even, positive).</param>
    /// <param name="freqBase">The model's rope_freq_base (10000 for llama, 1e6 for qwen2, ...).</param>
    /// <param name="freqFactors">Empty, or rotDim / 2 divisors as in llama.cpp's <c>rope_freqs</c> tensor (Llama 3.1 scaling).</param>
    /// <exception cref="ArgumentException">An argument is out of range.</exception>
    public static float[] InvFrequencies(int rotDim, float freqBase, ReadOnlySpan<float> freqFactors)
    {
        if (rotDim <= 0 || rotDim % 2 != 0)
        {
            throw new ArgumentException($"rotDim must be positive and even, not {rotDim}.", nameof(rotDim));
        }

        if (!(freqBase > 0))
        {
            throw new ArgumentException($"freqBase must be positive, not {freqBase}.", nameof(freqBase));
        }

        if (!freqFactors.IsEmpty && freqFactors.Length != rotDim / 2)
        {
            throw new ArgumentException($"freqFactors must be empty or hold rotDim / 2 = {rotDim / 2} values, not {freqFactors.Length}.", nameof(freqFactors));
        }

        var inv = new float[rotDim / 2];
        for (int i = 0; i < inv.Length; i++)
        {
            double freq = Math.Pow(freqBase, -2.0 * i / rotDim);
            inv[i] = (float)(freqFactors.IsEmpty ? freq : freq / freqFactors[i]);
        }

        return inv;
    }

    /// <summary>
    /// "Normal" rope (llama, Mistral, TinyLlama, SmolLM): rotates adjacent pairs <c>(x[2i], x[2i+1])</c> of each head.
    /// </summary>
    /// <param name="x">[nHeads, headDim] vectors of one token, rotated in place.</param>
    /// <param name="nHeads">Heads in <paramref name="x"/>.</param>
    /// <param name="headDim">Elements per head.</param>
    /// <param name="position">The token's position in its sequence.</param>
    /// <param name="invFreq">[rotDim / 2] inverse frequencies (<see cref="InvFrequencies"/>).</param>
    /// <exception cref="ArgumentException">The sizes do not fit.</exception>
    public static void ApplyNormal(Span<float> x, int nHeads, int headDim, int position, ReadOnlySpan<float> invFreq) =>
        Apply(x, nHeads, headDim, position, invFreq, neox: false);

    /// <summary>
    /// "NeoX" rope (qwen2, qwen3): rotates pairs <c>(x[i], x[i + rotDim/2])</c> of each head.
    /// </summary>
    /// <param name="x">[nHeads, headDim] vectors of one token, rotated in place.</param>
    /// <param name="nHeads">Heads in <paramref name="x"/>.</param>
    /// <param name="headDim">Elements per head.</param>
    /// <param name="position">The token's position in its sequence.</param>
    /// <param name="invFreq">[rotDim / 2] inverse frequencies (<see cref="InvFrequencies"/>).</param>
    /// <exception cref="ArgumentException">The sizes do not fit.</exception>
    public static void ApplyNeox(Span<float> x, int nHeads, int headDim, int position, ReadOnlySpan<float> invFreq) =>
        Apply(x, nHeads, headDim, position, invFreq, neox: true);

    private static void Apply(Span<float> x, int nHeads, int headDim, int position, ReadOnlySpan<float> invFreq, bool neox)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nHeads);
        ArgumentOutOfRangeException.ThrowIfNegative(headDim);
        int half = invFreq.Length;
        if (2 * half > headDim)
        {
            throw new ArgumentException($"rotDim = 2 · invFreq.Length = {2 * half} exceeds headDim {headDim}.", nameof(invFreq));
        }

        if (x.Length < (long)nHeads * headDim)
        {
            throw new ArgumentException($"x must hold nHeads · headDim = {(long)nHeads * headDim} floats, not {x.Length}.", nameof(x));
        }

        Span<float> cos = stackalloc float[PairsPerPass];
        Span<float> sin = stackalloc float[PairsPerPass];
        for (int p0 = 0; p0 < half; p0 += PairsPerPass)
        {
            int count = Math.Min(PairsPerPass, half - p0);
            for (int i = 0; i < count; i++)
            {
                float theta = position * invFreq[p0 + i];
                cos[i] = MathF.Cos(theta);
                sin[i] = MathF.Sin(theta);
            }

            for (int h = 0; h < nHeads; h++)
            {
                var head = x.Slice(h * headDim, headDim);
                if (neox)
                {
                    RotateHalves(head.Slice(p0, count), head.Slice(half + p0, count), cos[..count], sin[..count]);
                }
                else
                {
                    RotatePairs(head.Slice(2 * p0, 2 * count), cos[..count], sin[..count]);
                }
            }
        }
    }

    /// <summary>(x[2i], x[2i+1]) ← (x0·cos − x1·sin, x0·sin + x1·cos).</summary>
    private static void RotatePairs(Span<float> x, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        for (int i = 0; i < cos.Length; i++)
        {
            float x0 = x[2 * i];
            float x1 = x[(2 * i) + 1];
            x[2 * i] = (x0 * cos[i]) - (x1 * sin[i]);
            x[(2 * i) + 1] = (x0 * sin[i]) + (x1 * cos[i]);
        }
    }

    /// <summary>(a[i], b[i]) ← (a·cos − b·sin, a·sin + b·cos); vectorized, unfused, so bit-equal to the scalar loop.</summary>
    private static void RotateHalves(Span<float> a, Span<float> b, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int n = cos.Length;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float ar = ref MemoryMarshal.GetReference(a);
            ref float br = ref MemoryMarshal.GetReference(b);
            ref float cr = ref MemoryMarshal.GetReference(cos);
            ref float sr = ref MemoryMarshal.GetReference(sin);
            for (; i <= n - 8; i += 8)
            {
                var va = Vector256.LoadUnsafe(ref ar, (nuint)i);
                var vb = Vector256.LoadUnsafe(ref br, (nuint)i);
                var vc = Vector256.LoadUnsafe(ref cr, (nuint)i);
                var vs = Vector256.LoadUnsafe(ref sr, (nuint)i);
                ((va * vc) - (vb * vs)).StoreUnsafe(ref ar, (nuint)i);
                ((va * vs) + (vb * vc)).StoreUnsafe(ref br, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float x0 = a[i];
            float x1 = b[i];
            a[i] = (x0 * cos[i]) - (x1 * sin[i]);
            b[i] = (x0 * sin[i]) + (x1 * cos[i]);
        }
    }
}
