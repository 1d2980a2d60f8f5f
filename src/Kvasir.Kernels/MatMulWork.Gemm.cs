using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels;

/// <summary>The outer-product GEMM of <see cref="MatMulWork"/> (8 tokens or more): token packing and the register kernels.</summary>
internal readonly unsafe partial struct MatMulWork
{
    /// <summary>
    /// Prefill and batches, as an outer-product GEMM: each block of four micro-tiles of tokens is packed
    /// column-major per micro-tile (<see cref="PackTokens"/>), then four weight rows at a time are dequantized and
    /// multiplied with it in micro-tiles of 4 rows × 24 tokens (Vector256) or 4 rows × 48 tokens (Vector512) over the
    /// whole row: per column, three token vectors, four broadcast weights, twelve fused multiply-adds into twelve
    /// accumulators; no horizontal sums, and each output written once. Both widths accumulate each output over the
    /// columns in the same order, so their results are bit-identical.
    /// </summary>
    /// <remarks>
    /// Measured on one core with the kbench harness, L shapes (5632 × 2048 and 2048 × 5632), n = 16 / 64 / 256:
    /// 57–80 GFLOP/s for F32 and Q8_0 (the core's FMA peak is ~85) against 28–51 for the dot-product form it replaced
    /// (4 rows × 2 tokens, eight horizontal sums per pair). Slicing the columns to keep operands in L1 was slower
    /// (18–40): the partial sums then went back to y once per slice, and y (tokens × rows) does not stay in cache.
    /// </remarks>
    private void TiledRows(int r0, int r1)
    {
        int cols = _cols;
        float* xp = _packedTokens;
        bool wideTiles = WideTiles;
        int microTile = MicroTileTokens(wideTiles);
        int tokenBlock = 4 * microTile;
        float* buffer = RowScratch();
        float* zeros = buffer + (WideRowGroup * cols); // the missing rows of a last, partial row group
        if ((r1 - r0) % WideRowGroup != 0)
        {
            new Span<float>(zeros, cols).Clear();
        }

        float** w = stackalloc float*[WideRowGroup];
        byte* tileBytes = stackalloc byte[(WideRowGroup * WideMicroTile * sizeof(float)) + CacheLineBytes];
        float* tile = (float*)AlignUp(tileBytes); // the register tiles are stored whole
        float* band = stackalloc float[BandRows * 4 * WideMicroTile]; // a band's results, row by row, until WriteBand
        for (int t0 = 0; t0 < _n; t0 += tokenBlock)
        {
            int tokens = Math.Min(tokenBlock, _n - t0);

            // A block of at most 16 tokens (batched decode) with wide tiles takes eight rows at a time, its tokens in
            // column pairs (Kernel8x16Pairs, see PairTile).
            bool pairs = PairTile(_n, t0, wideTiles);
            int rowGroup = pairs ? WideRowGroup : RowGroup;
            int bandStart = r0;
            for (int r = r0; r < r1; r += rowGroup)
            {
                int groupRows = Math.Min(rowGroup, r1 - r);
                LoadRows(r, groupRows, buffer, w);
                int kernelRows = rowGroup;

                // Batched decode: the kernel over this group is short, so the next group's rows are asked for into L2
                // while it runs, instead of stalling their dequantization on memory (the 8 × 16 kernel spreads the
                // requests over its columns; others get them up front). Without such rows it prefetches the tokens.
                byte* next = (byte*)xp;
                if (tokens <= 16 && _type != Quant.GgmlType.F32 && r + groupRows < r1)
                {
                    next = _weights + ((r + groupRows) * _rowBytes);
                    if (kernelRows != WideRowGroup)
                    {
                        PrefetchL2(next, Math.Min(rowGroup, r1 - r - groupRows) * _rowBytes);
                    }
                }

                for (int i = groupRows; i < kernelRows; i++)
                {
                    w[i] = zeros;
                }

                for (int m = 0; m < tokens; m += microTile)
                {
                    int width = Math.Min(microTile, tokens - m);
                    float* xm = xp + ((long)(t0 + m) * cols);
                    if (pairs)
                    {
                        Kernel8x16Pairs(w, xm, cols, tile, next);
                    }
                    else if (wideTiles)
                    {
                        switch ((width + 15) & ~15)
                        {
                            case 48: Kernel4x48(w, xm, cols, tile); break;
                            case 32: Kernel4x32(w, xm, cols, tile); break;
                            default: Kernel4x16Wide(w, xm, cols, tile); break;
                        }
                    }
                    else
                    {
                        switch ((width + 7) & ~7)
                        {
                            case 24: Kernel4x24(w, xm, cols, tile); break;
                            case 16: Kernel4x16(w, xm, cols, tile); break;
                            default: Kernel4x8(w, xm, cols, tile); break;
                        }
                    }

                    for (int i = 0; i < groupRows; i++)
                    {
                        new ReadOnlySpan<float>(tile + (i * microTile), width).CopyTo(
                            new Span<float>(band + ((r - bandStart + i) * tokenBlock) + m, width));
                    }
                }

                if (r + groupRows - bandStart == BandRows || r + groupRows == r1)
                {
                    WriteBand(band, tokenBlock, r + groupRows - bandStart, tokens, _y + ((long)t0 * _rows) + bandStart);
                    bandStart = r + groupRows;
                }
            }
        }
    }

    /// <summary>
    /// Rows of output collected in <c>band</c> before they go to y: y[t, r] for one token is one cache line of 16
    /// rows, and a register tile's rows only a quarter of it. Written tile by tile, the 48 tokens' lines of a tile lie
    /// <c>rows · 4</c> bytes apart, often a multiple of 4 KB (2048 rows: 8 KB), so they fall into one set of the
    /// 12-way L1 and evict each other before the next row group writes the same lines again: with 1024 rows and 256
    /// columns a core ran the GEMM at 44–48 GFLOP/s against 150–170 with 256 rows (kbench, F16, n = 48–512).
    /// </summary>
    private const int BandRows = 16;

    /// <summary>y[t · rows + i] = band[i · stride + t] for i &lt; bandRows, t &lt; tokens: each token's rows of the band in one go.</summary>
    private void WriteBand(float* band, int stride, int bandRows, int tokens, float* y)
    {
        for (int t = 0; t < tokens; t++)
        {
            float* yt = y + ((long)t * _rows);
            for (int i = 0; i < bandRows; i++)
            {
                yt[i] = band[(i * stride) + t];
            }
        }
    }

    /// <summary>Tokens of one Vector256 register tile (three vectors of 8).</summary>
    private const int MicroTile = 24;

    /// <summary>Tokens of one Vector512 register tile (three vectors of 16).</summary>
    private const int WideMicroTile = 48;

    /// <summary>Tokens of one register tile: 48 with Vector512 tiles, else 24. A block of four tiles is packed together.</summary>
    public static int MicroTileTokens(bool wideTiles) => wideTiles ? WideMicroTile : MicroTile;

    /// <summary>
    /// Floats <see cref="PackTokens"/> writes for n tokens of cols columns (the last micro-tile padded to a whole
    /// vector: 8 tokens, or 16 with wide tiles; a tile in column pairs to an even number of columns).
    /// </summary>
    public static long PackedFloats(int n, int cols, bool wideTiles)
    {
        int microTile = MicroTileTokens(wideTiles);
        int lanes = microTile / 3;
        long floats = (long)((n / microTile * microTile) + ((n % microTile) + lanes - 1) / lanes * lanes) * cols;
        return n > 0 && PairTile(n, LastBlockStart(n, wideTiles), wideTiles) ? floats + ((cols & 1) * WideMicroTile / 3) : floats;
    }

    /// <summary>
    /// Whether the token block at <paramref name="t0"/> (a multiple of four micro-tiles) is packed in column pairs
    /// for <see cref="Kernel8x16Pairs"/>: with wide tiles, a block of at most 16 tokens (batched decode; n ≤ 16, or
    /// the last block of a larger n).
    /// </summary>
    public static bool PairTile(int n, int t0, bool wideTiles) => wideTiles && n - t0 <= WideMicroTile / 3;

    /// <summary>Where the last block of four micro-tiles starts.</summary>
    private static int LastBlockStart(int n, bool wideTiles)
    {
        int tokenBlock = 4 * MicroTileTokens(wideTiles);
        return (n - 1) / tokenBlock * tokenBlock;
    }

    /// <summary>
    /// Packs the tokens x [n, cols] column-major per micro-tile (<see cref="MicroTileTokens"/>, 24 or 48): micro-tile m
    /// (tokens tile·m .. tile·m + width) at <c>tile · m · cols</c>, element (k, j) at <c>k · padded + j</c>, where padded
    /// is width rounded up to a whole vector (8 or 16 tokens) and the padding is zero. Once per product, on the calling
    /// thread (8 × 8 transposes); every chunk reads the result.
    /// </summary>
    public static void PackTokens(float* x, int n, int cols, float* packed, bool wideTiles)
    {
        PackTiles(x, n, cols, packed, wideTiles);
        if (n == 0)
        {
            return;
        }

        int t0 = LastBlockStart(n, wideTiles);
        if (PairTile(n, t0, wideTiles))
        {
            ToColumnPairs(packed + ((long)t0 * cols), cols);
        }
    }

    /// <summary>
    /// A wide micro-tile of 16 tokens, packed column by column (token j of column k at 16k + j), rearranged in place
    /// into column pairs for <see cref="Kernel8x16Pairs"/>: pair p's 32 floats (where columns 2p and 2p + 1 were) hold
    /// tokens 0–7 as (column 2p, column 2p + 1) in lanes (2j, 2j + 1), then tokens 8–15 the same way. An odd last column
    /// pairs with a zero column, 16 floats past the tile's columns (<see cref="PackedFloats"/> counts them).
    /// </summary>
    private static void ToColumnPairs(float* tile, int cols)
    {
        if ((cols & 1) != 0)
        {
            new Span<float>(tile + (16L * cols), 16).Clear();
        }

        float* copy = stackalloc float[32]; // the scalar fallback's copy of one pair
        for (int p = 0; p < (cols + 1) / 2; p++)
        {
            float* pair = tile + (32L * p);
            if (Avx.IsSupported)
            {
                var even0 = Vector256.Load(pair);
                var even1 = Vector256.Load(pair + 8);
                var odd0 = Vector256.Load(pair + 16);
                var odd1 = Vector256.Load(pair + 24);
                Interleave(even0, odd0, pair);
                Interleave(even1, odd1, pair + 16);
            }
            else
            {
                new ReadOnlySpan<float>(pair, 32).CopyTo(new Span<float>(copy, 32));
                for (int j = 0; j < 16; j++)
                {
                    pair[2 * j] = copy[j];
                    pair[(2 * j) + 1] = copy[16 + j];
                }
            }
        }
    }

    /// <summary>dst[2j] = even[j], dst[2j + 1] = odd[j] for j &lt; 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(Vector256<float> even, Vector256<float> odd, float* dst)
    {
        var low = Avx.UnpackLow(even, odd);   // e0 o0 e1 o1 | e4 o4 e5 o5
        var high = Avx.UnpackHigh(even, odd); // e2 o2 e3 o3 | e6 o6 e7 o7
        Avx.Permute2x128(low, high, 0x20).Store(dst);
        Avx.Permute2x128(low, high, 0x31).Store(dst + 8);
    }

    /// <summary>The column-by-column packing of <see cref="PackTokens"/> (every micro-tile).</summary>
    private static void PackTiles(float* x, int n, int cols, float* packed, bool wideTiles)
    {
        int microTile = MicroTileTokens(wideTiles);
        int lanes = microTile / 3;
        float** rows = stackalloc float*[8];
        for (int m = 0; m < n; m += microTile)
        {
            int width = Math.Min(microTile, n - m);
            int padded = (width + lanes - 1) / lanes * lanes;
            float* dst = packed + ((long)m * cols);
            for (int g = 0; g < padded; g += 8)
            {
                // Rows of 8 tokens; tokens past n read as zeros.
                int valid = Math.Min(8, width - g);
                for (int j = 0; j < 8; j++)
                {
                    rows[j] = j < valid ? x + ((long)(m + g + j) * cols) : null;
                }

                int k = 0;
                if (Avx.IsSupported)
                {
                    for (; k <= cols - 8; k += 8)
                    {
                        Transpose8x8(rows, k, dst + ((long)k * padded) + g, padded);
                    }
                }

                for (; k < cols; k++)
                {
                    for (int j = 0; j < 8; j++)
                    {
                        dst[((long)k * padded) + g + j] = rows[j] == null ? 0 : rows[j][k];
                    }
                }
            }
        }
    }

    /// <summary>dst[i · stride + j] = rows[j][k + i] for i, j &lt; 8 (a null row reads as zeros).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float** rows, int k, float* dst, int stride)
    {
        var r0 = rows[0] == null ? Vector256<float>.Zero : Vector256.Load(rows[0] + k);
        var r1 = rows[1] == null ? Vector256<float>.Zero : Vector256.Load(rows[1] + k);
        var r2 = rows[2] == null ? Vector256<float>.Zero : Vector256.Load(rows[2] + k);
        var r3 = rows[3] == null ? Vector256<float>.Zero : Vector256.Load(rows[3] + k);
        var r4 = rows[4] == null ? Vector256<float>.Zero : Vector256.Load(rows[4] + k);
        var r5 = rows[5] == null ? Vector256<float>.Zero : Vector256.Load(rows[5] + k);
        var r6 = rows[6] == null ? Vector256<float>.Zero : Vector256.Load(rows[6] + k);
        var r7 = rows[7] == null ? Vector256<float>.Zero : Vector256.Load(rows[7] + k);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx.Permute2x128(u1, u5, 0x20).Store(dst + stride);
        Avx.Permute2x128(u2, u6, 0x20).Store(dst + (2 * stride));
        Avx.Permute2x128(u3, u7, 0x20).Store(dst + (3 * stride));
        Avx.Permute2x128(u0, u4, 0x31).Store(dst + (4 * stride));
        Avx.Permute2x128(u1, u5, 0x31).Store(dst + (5 * stride));
        Avx.Permute2x128(u2, u6, 0x31).Store(dst + (6 * stride));
        Avx.Permute2x128(u3, u7, 0x31).Store(dst + (7 * stride));
    }

    /// <summary>4 rows × 24 tokens over <paramref name="length"/> columns; tile[i · 24 + j] = Σ_k w[i][k] · x[k, j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x24(float** w, float* x, int length, float* tile)
    {
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector256<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        for (int k = 0; k < length; k++)
        {
            float* xk = x + (k * 24);
            var x0 = Vector256.Load(xk);
            var x1 = Vector256.Load(xk + 8);
            var x2 = Vector256.Load(xk + 16);
            var b = Vector256.Create(w0[k]);
            c00 = Simd.MulAdd(b, x0, c00);
            c01 = Simd.MulAdd(b, x1, c01);
            c02 = Simd.MulAdd(b, x2, c02);
            b = Vector256.Create(w1[k]);
            c10 = Simd.MulAdd(b, x0, c10);
            c11 = Simd.MulAdd(b, x1, c11);
            c12 = Simd.MulAdd(b, x2, c12);
            b = Vector256.Create(w2[k]);
            c20 = Simd.MulAdd(b, x0, c20);
            c21 = Simd.MulAdd(b, x1, c21);
            c22 = Simd.MulAdd(b, x2, c22);
            b = Vector256.Create(w3[k]);
            c30 = Simd.MulAdd(b, x0, c30);
            c31 = Simd.MulAdd(b, x1, c31);
            c32 = Simd.MulAdd(b, x2, c32);
        }

        c00.Store(tile);
        c01.Store(tile + 8);
        c02.Store(tile + 16);
        c10.Store(tile + 24);
        c11.Store(tile + 32);
        c12.Store(tile + 40);
        c20.Store(tile + 48);
        c21.Store(tile + 56);
        c22.Store(tile + 64);
        c30.Store(tile + 72);
        c31.Store(tile + 80);
        c32.Store(tile + 88);
    }

    /// <summary>4 rows × 16 tokens (a micro-tile of 9 to 16 tokens); same layout as <see cref="Kernel4x24"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x16(float** w, float* x, int length, float* tile)
    {
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int k = 0; k < length; k++)
        {
            float* xk = x + (k * 16);
            var x0 = Vector256.Load(xk);
            var x1 = Vector256.Load(xk + 8);
            var b = Vector256.Create(w0[k]);
            c00 = Simd.MulAdd(b, x0, c00);
            c01 = Simd.MulAdd(b, x1, c01);
            b = Vector256.Create(w1[k]);
            c10 = Simd.MulAdd(b, x0, c10);
            c11 = Simd.MulAdd(b, x1, c11);
            b = Vector256.Create(w2[k]);
            c20 = Simd.MulAdd(b, x0, c20);
            c21 = Simd.MulAdd(b, x1, c21);
            b = Vector256.Create(w3[k]);
            c30 = Simd.MulAdd(b, x0, c30);
            c31 = Simd.MulAdd(b, x1, c31);
        }

        c00.Store(tile);
        c01.Store(tile + 8);
        c10.Store(tile + 24);
        c11.Store(tile + 32);
        c20.Store(tile + 48);
        c21.Store(tile + 56);
        c30.Store(tile + 72);
        c31.Store(tile + 80);
    }

    /// <summary>4 rows × 8 tokens (a micro-tile of 1 to 8 tokens); same layout as <see cref="Kernel4x24"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x8(float** w, float* x, int length, float* tile)
    {
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int k = 0; k < length; k++)
        {
            var x0 = Vector256.Load(x + (k * 8));
            c0 = Simd.MulAdd(Vector256.Create(w0[k]), x0, c0);
            c1 = Simd.MulAdd(Vector256.Create(w1[k]), x0, c1);
            c2 = Simd.MulAdd(Vector256.Create(w2[k]), x0, c2);
            c3 = Simd.MulAdd(Vector256.Create(w3[k]), x0, c3);
        }

        c0.Store(tile);
        c1.Store(tile + 24);
        c2.Store(tile + 48);
        c3.Store(tile + 72);
    }
}
