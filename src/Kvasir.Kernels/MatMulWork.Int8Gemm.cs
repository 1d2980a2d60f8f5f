using System.Diagnostics;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels;

/// <summary>The integer GEMMs (<see cref="Q8_0Gemm"/>, <see cref="KQuantGemm"/>) as a MatMul chunk.</summary>
internal readonly unsafe partial struct MatMulWork
{
    /// <summary>Groups of 16 tokens per pass over the rows: each weight row is unpacked once for 64 tokens.</summary>
    private const int Int8GemmGroupsPerPass = 4;

    /// <summary>How many kernel calls ahead <see cref="Int8GemmRows{TRows}"/> prefetches the rows.</summary>
    private const int Int8GemmPrefetchCalls = 2;

    /// <summary>Rows r0..r1 against the packed tokens, with the kernel of the weight type and the machine.</summary>
    private void Int8GemmRows(int r0, int r1)
    {
        switch (_type)
        {
            case GgmlType.Q4_0: Int8GemmRows<Q8_0GemmRows<BlockQ4_0.Weights>, Q8_0GemmRowsWide<BlockQ4_0.Weights>>(r0, r1); break;
            case GgmlType.Q5_0: Int8GemmRows<Q8_0GemmRows<BlockQ5_0.GemmWeights>, Q8_0GemmRowsWide<BlockQ5_0.GemmWeights>>(r0, r1); break;
            case GgmlType.Q8_0: Int8GemmRows<Q8_0GemmRows<BlockQ8_0.Weights>, Q8_0GemmRowsWide<BlockQ8_0.Weights>>(r0, r1); break;
            case GgmlType.IQ4_NL: Int8GemmRows<Q8_0GemmRows<BlockIQ4_NL.Weights>, Q8_0GemmRowsWide<BlockIQ4_NL.Weights>>(r0, r1); break;
            case GgmlType.IQ4_XS: Int8GemmRows<IQ4_XSGemmRows, IQ4_XSGemmRowsWide>(r0, r1); break;
            case GgmlType.Q4_K: Int8GemmRows<KQuantGemmRows<KQuantGemmQ4_KFamily<BlockQ4_K.Chunks256>>, KQuantGemmRowsWide<KQuantGemmQ4_KFamily<BlockQ4_K.Chunks256>>>(r0, r1); break;
            case GgmlType.Q5_K: Int8GemmRows<KQuantGemmRows<KQuantGemmQ4_KFamily<BlockQ5_K.Chunks256>>, KQuantGemmRowsWide<KQuantGemmQ4_KFamily<BlockQ5_K.Chunks256>>>(r0, r1); break;
            case GgmlType.Q6_K: Int8GemmRows<KQuantGemmRows<KQuantGemmQ6_K>, KQuantGemmRowsWide<KQuantGemmQ6_K>>(r0, r1); break;
            case GgmlType.Q3_K: Int8GemmRows<KQuantGemmRows<KQuantGemmQ3_K>, KQuantGemmRowsWide<KQuantGemmQ3_K>>(r0, r1); break;
            default: Int8GemmRows<KQuantGemmRows<KQuantGemmQ2_K>, KQuantGemmRowsWide<KQuantGemmQ2_K>>(r0, r1); break;
        }
    }

    /// <summary>The AVX-VNNI kernels, or their 512-bit form where <see cref="Q8_0Gemm.UsesWideKernel"/>.</summary>
    private void Int8GemmRows<TRows, TRowsWide>(int r0, int r1)
        where TRows : struct, IInt8GemmRows
        where TRowsWide : struct, IInt8GemmRows
    {
        if (Q8_0Gemm.UsesWideKernel(_width, TRowsWide.ValueBits))
        {
            Int8GemmRows<TRowsWide>(r0, r1);
        }
        else
        {
            Int8GemmRows<TRows>(r0, r1);
        }
    }

    /// <summary>
    /// Per pass of up to 64 tokens, the rows are unpacked <see cref="IInt8GemmRows.KernelRows"/> at a time (four or two)
    /// and multiplied with each group of 16 tokens; the results go to y through a band of 16 rows
    /// (<see cref="WriteBand"/>), as in the float GEMM.
    /// </summary>
    private void Int8GemmRows<TRows>(int r0, int r1)
        where TRows : struct, IInt8GemmRows
    {
        const int passTokens = Int8GemmGroupsPerPass * Q8_0Gemm.GroupTokens;
        long groupBytes = TRows.GroupBytes(_cols);
        // (WideRowGroup + 1) · cols floats: room for four unpacked rows of at most 2.125 · cols bytes each (the split
        // 8-bit rows of Q8_0Gemm.UnpackRowWide).
        byte* u = (byte*)RowScratch();
        int stride = (int)((byte*)AlignUp(u + TRows.UnpackedRowBytes(_cols)) - u);
        float* band = stackalloc float[BandRows * passTokens];
        int groups = (_n + Q8_0Gemm.GroupTokens - 1) / Q8_0Gemm.GroupTokens;
        int kernelRows = TRows.KernelRows;
        for (int g0 = 0; g0 < groups; g0 += Int8GemmGroupsPerPass)
        {
            int t0 = g0 * Q8_0Gemm.GroupTokens;
            int tokens = Math.Min(passTokens, _n - t0);
            int g1 = Math.Min(groups, g0 + Int8GemmGroupsPerPass);
            int bandStart = r0;
            for (int r = r0; r < r1;)
            {
                int count = r1 - r >= kernelRows ? kernelRows : Math.Min(2, r1 - r);
                // A kernel call is short at 16 tokens: the rows two calls ahead are asked for into L2 while it runs
                // (by the first group's kernel), so that their unpacking does not wait on memory.
                int aheadRow = r + (Int8GemmPrefetchCalls * kernelRows);
                byte* ahead = aheadRow < r1 ? _weights + (aheadRow * _rowBytes) : null;
                for (int k = 0; k < count; k++)
                {
                    TRows.Unpack(_weights + ((r + k) * _rowBytes), _cols, u + (k * stride));
                }

                // The kernels write a group's 16 results per row straight into the band (a partial group's extra lanes
                // land past the pass's tokens, never read; a lone last row's call writes its twin into the next band row,
                // which exists: calls start at even band rows).
                Debug.Assert((r - bandStart) % 2 == 0 && r - bandStart + Math.Max(count, 2) <= BandRows, "A kernel call writes inside the band.");
                for (int g = g0; g < g1; g++)
                {
                    float* results = band + ((r - bandStart) * passTokens) + ((g - g0) * Q8_0Gemm.GroupTokens);
                    TRows.Kernel(u, stride, count, _cols, _activations + (g * groupBytes), results, passTokens, g == g0 ? ahead : null);
                }

                r += count;
                if (r - bandStart == BandRows || r == r1)
                {
                    WriteBand(band, passTokens, r - bandStart, tokens, _y + ((long)t0 * _rows) + bandStart);
                    bandStart = r;
                }
            }
        }
    }
}

/// <summary>One integer GEMM as <see cref="MatMulWork"/> drives it: row unpacking and the 2-row × 16-token kernel.</summary>
internal unsafe interface IInt8GemmRows
{
    /// <summary>Bits of the unsigned weight values the kernel multiplies: 2 (Q2_K), 3 (Q3_K), 4 (Q4_0, Q4_K), 5 (Q5_0, Q5_K), 6 (Q6_K), 8 (the rest).</summary>
    static abstract int ValueBits { get; }

    /// <summary>Bytes of one unpacked row of <paramref name="cols"/> values.</summary>
    static abstract int UnpackedRowBytes(int cols);

    /// <summary>Bytes of one packed group of 16 tokens.</summary>
    static abstract long GroupBytes(int cols);

    /// <summary>Unpacks one weight row.</summary>
    static abstract void Unpack(byte* row, int cols, byte* dst);

    /// <summary>The most rows one <see cref="Kernel"/> call takes: 4 (the 512-bit kernels of values up to six bits) or 2.</summary>
    static abstract int KernelRows { get; }

    /// <summary>
    /// <paramref name="rows"/> unpacked rows (1, 2 or <see cref="KernelRows"/>; row k at <c>u + k · stride</c>) against
    /// one group: 16 results each, row k's at <c>output + k · outputStride</c>.
    /// </summary>
    static abstract void Kernel(byte* u, int stride, int rows, int cols, byte* group, float* output, int outputStride, byte* prefetch);
}

/// <summary><see cref="Q8_0Gemm"/> for one weight type of the Q8_0 family.</summary>
internal readonly unsafe struct Q8_0GemmRows<TWeights> : IInt8GemmRows
    where TWeights : struct, IQ8_0Weights
{
    public static int ValueBits => Q8_0Gemm.ValueBits<TWeights>();

    public static int UnpackedRowBytes(int cols) => Q8_0Gemm.UnpackedRowBytes(cols / BlockQ8_0.BlockSize);

    public static long GroupBytes(int cols) => (long)(cols / BlockQ8_0.BlockSize) * Q8_0Gemm.BlockStride;

    public static void Unpack(byte* row, int cols, byte* dst) => Q8_0Gemm.UnpackRow<TWeights>(row, cols / BlockQ8_0.BlockSize, dst);

    public static int KernelRows => 2;

    public static void Kernel(byte* u, int stride, int rows, int cols, byte* group, float* output, int outputStride, byte* prefetch) =>
        Q8_0Gemm.Kernel2x16(u, rows == 2 ? u + stride : u, cols / BlockQ8_0.BlockSize, group, output, output + outputStride, prefetch);
}

/// <summary><see cref="KQuantGemm"/> for one K-quant weight type.</summary>
internal readonly unsafe struct KQuantGemmRows<TWeights> : IInt8GemmRows
    where TWeights : struct, IKQuantGemmWeights
{
    public static int ValueBits => TWeights.ValueBits;

    public static int UnpackedRowBytes(int cols) => KQuantGemm.UnpackedRowBytes(cols);

    public static long GroupBytes(int cols) => (long)(cols / BlockQ8_0.BlockSize) * KQuantGemm.BlockStride;

    public static void Unpack(byte* row, int cols, byte* dst) => KQuantGemm.UnpackRow<TWeights>(row, cols, dst);

    public static int KernelRows => 2;

    public static void Kernel(byte* u, int stride, int rows, int cols, byte* group, float* output, int outputStride, byte* prefetch) =>
        KQuantGemm.Kernel2x16<TWeights>(u, rows == 2 ? u + stride : u, cols, group, output, output + outputStride, prefetch);
}

/// <summary><see cref="Q8_0Gemm"/>'s 512-bit kernel (see <see cref="Q8_0Gemm.UsesWideKernel"/>) for one weight type of the Q8_0 family.</summary>
internal readonly unsafe struct Q8_0GemmRowsWide<TWeights> : IInt8GemmRows
    where TWeights : struct, IQ8_0Weights
{
    public static int ValueBits => Q8_0Gemm.ValueBits<TWeights>();

    public static int UnpackedRowBytes(int cols) => Q8_0Gemm.UnpackedRowBytesWide<TWeights>(cols / BlockQ8_0.BlockSize);

    public static long GroupBytes(int cols) => Q8_0GemmRows<TWeights>.GroupBytes(cols);

    public static void Unpack(byte* row, int cols, byte* dst) => Q8_0Gemm.UnpackRowWide<TWeights>(row, cols / BlockQ8_0.BlockSize, dst);

    /// <summary>4 for values of at most six bits (Q4_0, Q5_0); the split 8-bit rows keep the pair kernel.</summary>
    public static int KernelRows => ValueBits <= 6 ? 4 : 2;

    public static void Kernel(byte* u, int stride, int rows, int cols, byte* group, float* output, int outputStride, byte* prefetch)
    {
        if (rows == 4)
        {
            Q8_0Gemm.Kernel4x16Wide<TWeights>(u, stride, cols / BlockQ8_0.BlockSize, group, output, outputStride, prefetch);
        }
        else
        {
            Q8_0Gemm.Kernel2x16Wide<TWeights>(u, rows == 2 ? u + stride : u, cols / BlockQ8_0.BlockSize, group, output, output + outputStride, prefetch);
        }
    }
}

/// <summary><see cref="KQuantGemm"/>'s 512-bit kernel (see <see cref="Q8_0Gemm.UsesWideKernel"/>) for one K-quant weight type.</summary>
internal readonly unsafe struct KQuantGemmRowsWide<TWeights> : IInt8GemmRows
    where TWeights : struct, IKQuantGemmWeights
{
    public static int ValueBits => TWeights.ValueBits;

    public static int UnpackedRowBytes(int cols) => KQuantGemm.UnpackedRowBytes(cols);

    public static long GroupBytes(int cols) => KQuantGemmRows<TWeights>.GroupBytes(cols);

    public static void Unpack(byte* row, int cols, byte* dst) => KQuantGemm.UnpackRow<TWeights>(row, cols, dst);

    public static int KernelRows => 4;

    public static void Kernel(byte* u, int stride, int rows, int cols, byte* group, float* output, int outputStride, byte* prefetch)
    {
        if (rows == 4)
        {
            KQuantGemm.Kernel4x16Wide<TWeights>(u, stride, cols, group, output, outputStride, prefetch);
        }
        else
        {
            KQuantGemm.Kernel2x16Wide<TWeights>(u, rows == 2 ? u + stride : u, cols, group, output, output + outputStride, prefetch);
        }
    }
}

/// <summary>
/// IQ4_XS for <see cref="Q8_0Gemm"/>: each sub-block of 32 is a block of IQ4_NL's levels with its own float scale
/// d · (ls − 32), unpacked as the signed 8-bit types are (levels + 128).
/// </summary>
/// <remarks>Everything but the unpacking is IQ4_NL's (<see cref="Q8_0GemmRows{TWeights}"/>).</remarks>
internal readonly unsafe struct IQ4_XSGemmRows : IInt8GemmRows
{
    public static int ValueBits => Q8_0GemmRows<BlockIQ4_NL.Weights>.ValueBits;

    public static int UnpackedRowBytes(int cols) => Q8_0GemmRows<BlockIQ4_NL.Weights>.UnpackedRowBytes(cols);

    public static long GroupBytes(int cols) => Q8_0GemmRows<BlockIQ4_NL.Weights>.GroupBytes(cols);

    public static void Unpack(byte* row, int cols, byte* dst) => BlockIQ4_XS.UnpackGemmRow(row, cols / BlockIQ4_XS.BlockSize, dst, split: false);

    public static int KernelRows => Q8_0GemmRows<BlockIQ4_NL.Weights>.KernelRows;

    public static void Kernel(byte* u, int stride, int rows, int cols, byte* group, float* output, int outputStride, byte* prefetch) =>
        Q8_0GemmRows<BlockIQ4_NL.Weights>.Kernel(u, stride, rows, cols, group, output, outputStride, prefetch);
}

/// <summary><see cref="IQ4_XSGemmRows"/> for the 512-bit kernel: the 8-bit values split into nibbles, as IQ4_NL's.</summary>
internal readonly unsafe struct IQ4_XSGemmRowsWide : IInt8GemmRows
{
    public static int ValueBits => Q8_0GemmRowsWide<BlockIQ4_NL.Weights>.ValueBits;

    public static int UnpackedRowBytes(int cols) => Q8_0GemmRowsWide<BlockIQ4_NL.Weights>.UnpackedRowBytes(cols);

    public static long GroupBytes(int cols) => Q8_0GemmRowsWide<BlockIQ4_NL.Weights>.GroupBytes(cols);

    public static void Unpack(byte* row, int cols, byte* dst) => BlockIQ4_XS.UnpackGemmRow(row, cols / BlockIQ4_XS.BlockSize, dst, split: true);

    public static int KernelRows => Q8_0GemmRowsWide<BlockIQ4_NL.Weights>.KernelRows;

    public static void Kernel(byte* u, int stride, int rows, int cols, byte* group, float* output, int outputStride, byte* prefetch) =>
        Q8_0GemmRowsWide<BlockIQ4_NL.Weights>.Kernel(u, stride, rows, cols, group, output, outputStride, prefetch);
}
