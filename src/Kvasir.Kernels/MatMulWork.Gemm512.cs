using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels;

/// <summary>
/// The Vector512 register kernels of the outer-product GEMM (<see cref="TiledRows"/> with wide tiles): the same
/// 4-row tiles as the Vector256 kernels, three vectors of 16 tokens wide. Each output lane is accumulated over the
/// columns in the same order as in the Vector256 kernels, so the two widths give the same bits — except in a block of
/// at most 16 tokens, which <see cref="Kernel8x16Pairs"/> takes on column pairs (within <c>Tolerance.MatMul</c>).
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
    /// 8 rows × 16 tokens (a whole token block of 1 to 16 tokens: batched decode) on tokens packed in column pairs
    /// (<see cref="ToColumnPairs"/>): lane 2j + q of the first vector of pair p holds token j's column 2p + q (tokens
    /// 8–15 in the second), so one 64-bit broadcast of a row's two columns serves both vectors. Row i of the tile at
    /// tile[i · 48]; each lane sums its parity's columns in order and the two parities are added at the end, so these
    /// are not the 4 × 16 kernels' bits (the same products, another order of addition; within <c>Tolerance.MatMul</c>).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Why pairs: a 32-bit broadcast per FMA (the 8 × 16 kernel this replaced) kept the FMA pipes half idle. Loop
    /// microbenchmarks on Zen 5 (one core, eight or sixteen accumulators, operands in L1; cycles per FMA at 3.25 GHz):
    /// <c>vbroadcastss</c> (or an embedded {1to16} broadcast) for every FMA 0.82–0.91, one <c>vbroadcastss</c> for two
    /// FMAs 0.66, one <c>vbroadcastsd</c> of a column pair for two FMAs 0.55 — the FMA peak. Sixteen accumulators,
    /// two token vectors and a broadcast use 19 of the 32 registers.
    /// </para>
    /// <para>
    /// One line from <paramref name="prefetch"/> on is asked for into L2 per four columns: 16 bytes a column, the next
    /// eight rows of F16 weights over the loop (less dense types get theirs further ahead), spread so that the requests
    /// do not queue up at once (in one burst before the kernel they took 6 % of a batched F16 decode's samples). An odd
    /// last column is a pair with a zero token column: its weight is broadcast alone, never read past the row.
    /// </para>
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x16Pairs(float** w, float* x, int length, float* tile, byte* prefetch)
    {
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7];
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default, d6 = default, d7 = default;
        int k = 0;
        for (; k + 4 <= length; k += 4)
        {
            if (Sse.IsSupported)
            {
                Sse.Prefetch1(prefetch + (k * 16));
            }

            PairStep(w0, w1, w2, w3, w4, w5, w6, w7, x, k, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7, ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7);
            PairStep(w0, w1, w2, w3, w4, w5, w6, w7, x, k + 2, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7, ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7);
        }

        if (k + 2 <= length)
        {
            PairStep(w0, w1, w2, w3, w4, w5, w6, w7, x, k, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7, ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7);
            k += 2;
        }

        if (k < length)
        {
            // The odd last column: its token pair's second lane is zero, so the weight goes to both lanes alone.
            var x0 = Vector512.Load(x + (k * 16));
            var x1 = Vector512.Load(x + (k * 16) + 16);
            LastColumn(w0[k], x0, x1, ref c0, ref d0);
            LastColumn(w1[k], x0, x1, ref c1, ref d1);
            LastColumn(w2[k], x0, x1, ref c2, ref d2);
            LastColumn(w3[k], x0, x1, ref c3, ref d3);
            LastColumn(w4[k], x0, x1, ref c4, ref d4);
            LastColumn(w5[k], x0, x1, ref c5, ref d5);
            LastColumn(w6[k], x0, x1, ref c6, ref d6);
            LastColumn(w7[k], x0, x1, ref c7, ref d7);
        }

        StorePairSums(c0, d0, tile);
        StorePairSums(c1, d1, tile + 48);
        StorePairSums(c2, d2, tile + 96);
        StorePairSums(c3, d3, tile + 144);
        StorePairSums(c4, d4, tile + 192);
        StorePairSums(c5, d5, tile + 240);
        StorePairSums(c6, d6, tile + 288);
        StorePairSums(c7, d7, tile + 336);
    }

    /// <summary>Columns k and k + 1 of <see cref="Kernel8x16Pairs"/>: each row's pair broadcast against both token vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairStep(
        float* w0, float* w1, float* w2, float* w3, float* w4, float* w5, float* w6, float* w7, float* x, int k,
        ref Vector512<float> c0, ref Vector512<float> c1, ref Vector512<float> c2, ref Vector512<float> c3,
        ref Vector512<float> c4, ref Vector512<float> c5, ref Vector512<float> c6, ref Vector512<float> c7,
        ref Vector512<float> d0, ref Vector512<float> d1, ref Vector512<float> d2, ref Vector512<float> d3,
        ref Vector512<float> d4, ref Vector512<float> d5, ref Vector512<float> d6, ref Vector512<float> d7)
    {
        var x0 = Vector512.Load(x + (k * 16));
        var x1 = Vector512.Load(x + (k * 16) + 16);
        Pair(w0 + k, x0, x1, ref c0, ref d0);
        Pair(w1 + k, x0, x1, ref c1, ref d1);
        Pair(w2 + k, x0, x1, ref c2, ref d2);
        Pair(w3 + k, x0, x1, ref c3, ref d3);
        Pair(w4 + k, x0, x1, ref c4, ref d4);
        Pair(w5 + k, x0, x1, ref c5, ref d5);
        Pair(w6 + k, x0, x1, ref c6, ref d6);
        Pair(w7 + k, x0, x1, ref c7, ref d7);
    }

    /// <summary>One row's two columns at <paramref name="w"/>, broadcast as a pair (<c>vbroadcastsd</c>), into its two accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair(float* w, Vector512<float> x0, Vector512<float> x1, ref Vector512<float> c, ref Vector512<float> d)
    {
        var b = Vector512.Create(Unsafe.ReadUnaligned<double>(w)).AsSingle();
        c = Simd.MulAdd(b, x0, c);
        d = Simd.MulAdd(b, x1, d);
    }

    /// <summary>An odd last column's weight against both token vectors (the pairs' second lanes are zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LastColumn(float w, Vector512<float> x0, Vector512<float> x1, ref Vector512<float> c, ref Vector512<float> d)
    {
        var b = Vector512.Create(w);
        c = Simd.MulAdd(b, x0, c);
        d = Simd.MulAdd(b, x1, d);
    }

    /// <summary>
    /// tile[j] = even + odd lane of token j's pair (tokens 0–7 from <paramref name="c"/>, 8–15 from <paramref name="d"/>),
    /// with cross-platform shuffles (the tests run these kernels in software on machines without AVX-512).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePairSums(Vector512<float> c, Vector512<float> d, float* tile)
    {
        var swap = Vector512.Create(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
        var low = Vector512.Shuffle(c + Vector512.Shuffle(c, swap), even);
        var high = Vector512.Shuffle(d + Vector512.Shuffle(d, swap), even);
        Vector512.Create(low.GetLower(), high.GetLower()).Store(tile);
    }
}
