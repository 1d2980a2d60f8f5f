using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels;

/// <summary>
/// The Vector512 register kernels of the outer-product GEMM (<see cref="TiledRows"/> with wide tiles): the same
/// 4-row tiles as the Vector256 kernels, three vectors of 16 tokens wide. Each output lane is accumulated over the
/// columns in the same order as in the Vector256 kernels, so the two widths give the same bits.
/// </summary>
/// <remarks>
/// Twelve 512-bit accumulators, three token vectors and a broadcast use 16 of AVX-512's 32 registers; per column
/// 12 FMAs against 3 loads and 4 broadcasts, the same balance as the 4 × 24 Vector256 kernel at twice the width.
/// Where Vector512 is not accelerated (the development machine has AVX2 only) these kernels still run, in software,
/// which is how the tests hold them to the Vector256 kernels; production selects them only where
/// <see cref="Simd.Best"/> is <see cref="SimdWidth.V512"/>.
/// </remarks>
internal readonly unsafe partial struct MatMulWork
{
    /// <summary>4 rows × 48 tokens over <paramref name="length"/> columns; tile[i · 48 + j] = Σ_k w[i][k] · x[k, j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x48(float** w, float* x, int length, float* tile)
    {
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector512<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        for (int k = 0; k < length; k++)
        {
            float* xk = x + (k * 48);
            var x0 = Vector512.Load(xk);
            var x1 = Vector512.Load(xk + 16);
            var x2 = Vector512.Load(xk + 32);
            var b = Vector512.Create(w0[k]);
            c00 = Simd.MulAdd(b, x0, c00);
            c01 = Simd.MulAdd(b, x1, c01);
            c02 = Simd.MulAdd(b, x2, c02);
            b = Vector512.Create(w1[k]);
            c10 = Simd.MulAdd(b, x0, c10);
            c11 = Simd.MulAdd(b, x1, c11);
            c12 = Simd.MulAdd(b, x2, c12);
            b = Vector512.Create(w2[k]);
            c20 = Simd.MulAdd(b, x0, c20);
            c21 = Simd.MulAdd(b, x1, c21);
            c22 = Simd.MulAdd(b, x2, c22);
            b = Vector512.Create(w3[k]);
            c30 = Simd.MulAdd(b, x0, c30);
            c31 = Simd.MulAdd(b, x1, c31);
            c32 = Simd.MulAdd(b, x2, c32);
        }

        c00.Store(tile);
        c01.Store(tile + 16);
        c02.Store(tile + 32);
        c10.Store(tile + 48);
        c11.Store(tile + 64);
        c12.Store(tile + 80);
        c20.Store(tile + 96);
        c21.Store(tile + 112);
        c22.Store(tile + 128);
        c30.Store(tile + 144);
        c31.Store(tile + 160);
        c32.Store(tile + 176);
    }

    /// <summary>4 rows × 32 tokens (a wide micro-tile of 17 to 32 tokens); same layout as <see cref="Kernel4x48"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x32(float** w, float* x, int length, float* tile)
    {
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int k = 0; k < length; k++)
        {
            float* xk = x + (k * 32);
            var x0 = Vector512.Load(xk);
            var x1 = Vector512.Load(xk + 16);
            var b = Vector512.Create(w0[k]);
            c00 = Simd.MulAdd(b, x0, c00);
            c01 = Simd.MulAdd(b, x1, c01);
            b = Vector512.Create(w1[k]);
            c10 = Simd.MulAdd(b, x0, c10);
            c11 = Simd.MulAdd(b, x1, c11);
            b = Vector512.Create(w2[k]);
            c20 = Simd.MulAdd(b, x0, c20);
            c21 = Simd.MulAdd(b, x1, c21);
            b = Vector512.Create(w3[k]);
            c30 = Simd.MulAdd(b, x0, c30);
            c31 = Simd.MulAdd(b, x1, c31);
        }

        c00.Store(tile);
        c01.Store(tile + 16);
        c10.Store(tile + 48);
        c11.Store(tile + 64);
        c20.Store(tile + 96);
        c21.Store(tile + 112);
        c30.Store(tile + 144);
        c31.Store(tile + 160);
    }

    /// <summary>4 rows × 16 tokens (a wide micro-tile of 1 to 16 tokens); same layout as <see cref="Kernel4x48"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x16Wide(float** w, float* x, int length, float* tile)
    {
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int k = 0; k < length; k++)
        {
            var x0 = Vector512.Load(x + (k * 16));
            c0 = Simd.MulAdd(Vector512.Create(w0[k]), x0, c0);
            c1 = Simd.MulAdd(Vector512.Create(w1[k]), x0, c1);
            c2 = Simd.MulAdd(Vector512.Create(w2[k]), x0, c2);
            c3 = Simd.MulAdd(Vector512.Create(w3[k]), x0, c3);
        }

        c0.Store(tile);
        c1.Store(tile + 48);
        c2.Store(tile + 96);
        c3.Store(tile + 144);
    }

    /// <summary>
    /// 8 rows × 16 tokens (a whole token block of 1 to 16 tokens: batched decode); row i of the tile at
    /// tile[i · 48]. The 4 × 16 kernel has four accumulators, one dependency chain each, which leaves half of the FMA
    /// pipes idle for the FMA's latency; eight chains fill them. Each output lane is summed over the columns in the
    /// same order as in <see cref="Kernel4x16Wide"/>, so the results are the same bits. One line from
    /// <paramref name="prefetch"/> on is asked for into L2 per four columns: 16 bytes a column, the next eight rows of
    /// F16 weights over the loop (less dense types get theirs further ahead), spread so that the requests do not queue
    /// up at once (in one burst before the kernel they took 6 % of a batched F16 decode's samples; spread, with the
    /// cheaper finiteness check of the same change, the product ran 1.37–1.45× faster: kbench F16 5632 × 2048 and
    /// 2048 × 5632, 16 tokens, two threads). Four columns a turn keep the loop's registers to the row pointers, x, k
    /// and the prefetch pointer (a prefetch cursor of its own spilled row pointers to the stack).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x16Wide(float** w, float* x, int length, float* tile, byte* prefetch)
    {
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7];
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
        int k = 0;
        for (; k + 4 <= length; k += 4)
        {
            if (Sse.IsSupported)
            {
                Sse.Prefetch1(prefetch + (k * 16));
            }

            Step8x16(w0, w1, w2, w3, w4, w5, w6, w7, x, k, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
            Step8x16(w0, w1, w2, w3, w4, w5, w6, w7, x, k + 1, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
            Step8x16(w0, w1, w2, w3, w4, w5, w6, w7, x, k + 2, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
            Step8x16(w0, w1, w2, w3, w4, w5, w6, w7, x, k + 3, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
        }

        for (; k < length; k++)
        {
            Step8x16(w0, w1, w2, w3, w4, w5, w6, w7, x, k, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
        }

        c0.Store(tile);
        c1.Store(tile + 48);
        c2.Store(tile + 96);
        c3.Store(tile + 144);
        c4.Store(tile + 192);
        c5.Store(tile + 240);
        c6.Store(tile + 288);
        c7.Store(tile + 336);
    }

    /// <summary>Column k of <see cref="Kernel8x16Wide"/>: eight broadcast weights against the tokens' vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step8x16(
        float* w0, float* w1, float* w2, float* w3, float* w4, float* w5, float* w6, float* w7, float* x, int k,
        ref Vector512<float> c0, ref Vector512<float> c1, ref Vector512<float> c2, ref Vector512<float> c3,
        ref Vector512<float> c4, ref Vector512<float> c5, ref Vector512<float> c6, ref Vector512<float> c7)
    {
        var x0 = Vector512.Load(x + (k * 16));
        c0 = Simd.MulAdd(Vector512.Create(w0[k]), x0, c0);
        c1 = Simd.MulAdd(Vector512.Create(w1[k]), x0, c1);
        c2 = Simd.MulAdd(Vector512.Create(w2[k]), x0, c2);
        c3 = Simd.MulAdd(Vector512.Create(w3[k]), x0, c3);
        c4 = Simd.MulAdd(Vector512.Create(w4[k]), x0, c4);
        c5 = Simd.MulAdd(Vector512.Create(w5[k]), x0, c5);
        c6 = Simd.MulAdd(Vector512.Create(w6[k]), x0, c6);
        c7 = Simd.MulAdd(Vector512.Create(w7[k]), x0, c7);
    }
}
