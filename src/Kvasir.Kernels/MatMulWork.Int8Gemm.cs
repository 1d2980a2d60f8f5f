using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels;

/// <summary>The integer GEMM of the Q8_0 family (<see cref="Q8_0Gemm"/>) as a MatMul chunk.</summary>
internal readonly unsafe partial struct MatMulWork
{
    /// <summary>Groups of 16 tokens per pass over the rows: each weight row is unpacked once for 64 tokens.</summary>
    private const int Int8GemmGroupsPerPass = 4;

    /// <summary>
    /// Rows r0..r1 against the packed tokens: per pass of up to 64 tokens, two rows at a time are unpacked to their
    /// unsigned form and multiplied with each group of 16 tokens; the results go to y through a band of 16 rows
    /// (<see cref="WriteBand"/>), as in the float GEMM.
    /// </summary>
    private void Int8GemmRows(int r0, int r1)
    {
        switch (_type)
        {
            case GgmlType.Q4_0: Int8GemmRows<BlockQ4_0.Weights>(r0, r1); break;
            case GgmlType.Q5_0: Int8GemmRows<BlockQ5_0.Weights>(r0, r1); break;
            case GgmlType.Q8_0: Int8GemmRows<BlockQ8_0.Weights>(r0, r1); break;
            default: Int8GemmRows<BlockIQ4_NL.Weights>(r0, r1); break;
        }
    }

    private void Int8GemmRows<TWeights>(int r0, int r1)
        where TWeights : struct, IQ8_0Weights
    {
        const int passTokens = Int8GemmGroupsPerPass * Q8_0Gemm.GroupTokens;
        int blocks = _cols / BlockQ8_0.BlockSize;
        long groupBytes = (long)blocks * Q8_0Gemm.BlockStride;
        byte* u0 = (byte*)RowScratch(); // (WideRowGroup + 1) · cols floats: room for two unpacked rows (1.125 · cols bytes each)
        byte* u1 = (byte*)AlignUp(u0 + Q8_0Gemm.UnpackedRowBytes(blocks));
        float* band = stackalloc float[BandRows * passTokens];
        float* out0 = stackalloc float[Q8_0Gemm.GroupTokens];
        float* out1 = stackalloc float[Q8_0Gemm.GroupTokens];
        int groups = (_n + Q8_0Gemm.GroupTokens - 1) / Q8_0Gemm.GroupTokens;
        for (int g0 = 0; g0 < groups; g0 += Int8GemmGroupsPerPass)
        {
            int t0 = g0 * Q8_0Gemm.GroupTokens;
            int tokens = Math.Min(passTokens, _n - t0);
            int g1 = Math.Min(groups, g0 + Int8GemmGroupsPerPass);
            int bandStart = r0;
            for (int r = r0; r < r1; r += 2)
            {
                int pairRows = Math.Min(2, r1 - r);
                Q8_0Gemm.UnpackRow<TWeights>(_weights + (r * _rowBytes), blocks, u0);
                if (pairRows == 2)
                {
                    Q8_0Gemm.UnpackRow<TWeights>(_weights + ((r + 1) * _rowBytes), blocks, u1);
                }

                for (int g = g0; g < g1; g++)
                {
                    Q8_0Gemm.Kernel2x16(u0, pairRows == 2 ? u1 : u0, blocks, _activations + (g * groupBytes), out0, out1);
                    int m = (g - g0) * Q8_0Gemm.GroupTokens;
                    int width = Math.Min(Q8_0Gemm.GroupTokens, tokens - m);
                    new ReadOnlySpan<float>(out0, width).CopyTo(new Span<float>(band + ((r - bandStart) * passTokens) + m, width));
                    if (pairRows == 2)
                    {
                        new ReadOnlySpan<float>(out1, width).CopyTo(new Span<float>(band + ((r + 1 - bandStart) * passTokens) + m, width));
                    }
                }

                if (r + pairRows - bandStart == BandRows || r + pairRows == r1)
                {
                    WriteBand(band, passTokens, r + pairRows - bandStart, tokens, _y + ((long)t0 * _rows) + bandStart);
                    bandStart = r + pairRows;
                }
            }
        }
    }
}
