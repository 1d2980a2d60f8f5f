using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// <see cref="Kernel2x16{TWeights}"/> in 512-bit vectors, on every AVX-512 machine (where AVX-VNNI exists too, this is
/// 1.3–1.4× faster, see <see cref="Q8_0Gemm.UsesWideKernel"/>): sixteen tokens per zmm, <c>vpmaddubsw</c> products
/// summed in int16 as long as the values' range allows (<see cref="Q8_0Gemm.StepsWide"/>:
/// a whole sub-block of 32 for Q4_K, half of it for Q5_K, two steps for Q6_K), then <c>vpmaddwd</c> into the int32
/// sub-block sums. Those are the VNNI kernel's exact sums and the float steps are its steps lane for lane: the same bits.
/// </summary>
internal static unsafe partial class KQuantGemm
{
    /// <summary>Two unpacked rows of <paramref name="cols"/> values against one packed group of 16 tokens, at 512 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel2x16Wide<TWeights>(byte* u0, byte* u1, int cols, byte* group, float* out0, float* out1, byte* prefetch = null)
        where TWeights : struct, IKQuantGemmWeights
    {
        int subBlocks = cols / TWeights.SubBlock;
        float* a0 = (float*)(u0 + cols);
        float* b0 = a0 + subBlocks;
        float* a1 = (float*)(u1 + cols);
        float* b1 = a1 + subBlocks;
        Vector512<float> f0 = default, f1 = default;
        for (int blk = 0; blk < cols / 32; blk++)
        {
            if (prefetch != null && Sse.IsSupported)
            {
                Sse.Prefetch1(prefetch + (blk * 64));
            }

            byte* x = group + ((long)blk * BlockStride);
            uint* w0 = (uint*)(u0 + (blk * 32));
            uint* w1 = (uint*)(u1 + (blk * 32));
            var dx = Vector512.Load((float*)(x + ScalesAt));
            StartWide<TWeights>((int*)(x + LowSumAt), out var i0, out var i1);
            if (TWeights.SubBlock == 16)
            {
                int s = 2 * blk;
                Q8_0Gemm.StepsWide(TWeights.ValueBits, w0, w1, x, 0, 4, ref i0, ref i1);
                FoldWide<TWeights>(i0, i1, a0[s], b0[s], a1[s], b1[s], dx, (float*)(x + LowAt), ref f0, ref f1);
                StartWide<TWeights>((int*)(x + HighSumAt), out i0, out i1);
                Q8_0Gemm.StepsWide(TWeights.ValueBits, w0, w1, x, 4, 4, ref i0, ref i1);
                FoldWide<TWeights>(i0, i1, a0[s + 1], b0[s + 1], a1[s + 1], b1[s + 1], dx, (float*)(x + HighAt), ref f0, ref f1);
            }
            else
            {
                Q8_0Gemm.StepsWide(TWeights.ValueBits, w0, w1, x, 0, 8, ref i0, ref i1);
                FoldWide<TWeights>(i0, i1, a0[blk], b0[blk], a1[blk], b1[blk], dx, (float*)(x + WholeAt), ref f0, ref f1);
            }
        }

        f0.Store(out0);
        f1.Store(out1);
    }

    /// <summary>
    /// Four unpacked rows (row k at <c>u + k · stride</c>) against one packed group of 16 tokens, 16 results per row to
    /// <c>output + k · outputStride</c>: <see cref="Kernel2x16Wide{TWeights}"/> with each zmm of tokens read once for
    /// four rows.
    /// </summary>
    /// <remarks>
    /// The two-row kernel reads 640 bytes of packed tokens (Q4_K) per 1024 products; a group for 2048 columns is 41 KB
    /// of them, re-read for every pair of rows, which with the rows' unpacking overflows Zen 5's 48 KB L1 and reads
    /// from L2 at 5632 columns. Four rows halve those reads.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel4x16Wide<TWeights>(byte* u, int stride, int cols, byte* group, float* output, int outputStride, byte* prefetch = null)
        where TWeights : struct, IKQuantGemmWeights
    {
        int subBlocks = cols / TWeights.SubBlock;
        byte* u1 = u + stride;
        byte* u2 = u1 + stride;
        byte* u3 = u2 + stride;
        float* a0 = (float*)(u + cols);
        float* a1 = (float*)(u1 + cols);
        float* a2 = (float*)(u2 + cols);
        float* a3 = (float*)(u3 + cols);
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int blk = 0; blk < cols / 32; blk++)
        {
            if (prefetch != null && Sse.IsSupported)
            {
                // One line per block of 32, as the pair's kernel: 3.5 of the four rows a call consumes (Q4_K); two lines
                // per block, all of them, measured the same (L2 GEMM of 5632 × 2048 and 16 tokens, 4 runs in turns).
                Sse.Prefetch1(prefetch + (blk * 64));
            }

            byte* x = group + ((long)blk * BlockStride);
            uint* w0 = (uint*)(u + (blk * 32));
            uint* w1 = (uint*)(u1 + (blk * 32));
            uint* w2 = (uint*)(u2 + (blk * 32));
            uint* w3 = (uint*)(u3 + (blk * 32));
            var dx = Vector512.Load((float*)(x + ScalesAt));
            StartWide<TWeights>((int*)(x + LowSumAt), out var i0, out var i1);
            var i2 = i0;
            var i3 = i0;
            if (TWeights.SubBlock == 16)
            {
                int s = 2 * blk;
                Q8_0Gemm.StepsWide4(TWeights.ValueBits, w0, w1, w2, w3, x, 0, 4, ref i0, ref i1, ref i2, ref i3);
                FoldWide4<TWeights>(i0, i1, i2, i3, a0, a1, a2, a3, s, subBlocks, dx, (float*)(x + LowAt), ref f0, ref f1, ref f2, ref f3);
                StartWide<TWeights>((int*)(x + HighSumAt), out i0, out i1);
                i2 = i0;
                i3 = i0;
                Q8_0Gemm.StepsWide4(TWeights.ValueBits, w0, w1, w2, w3, x, 4, 4, ref i0, ref i1, ref i2, ref i3);
                FoldWide4<TWeights>(i0, i1, i2, i3, a0, a1, a2, a3, s + 1, subBlocks, dx, (float*)(x + HighAt), ref f0, ref f1, ref f2, ref f3);
            }
            else
            {
                Q8_0Gemm.StepsWide4(TWeights.ValueBits, w0, w1, w2, w3, x, 0, 8, ref i0, ref i1, ref i2, ref i3);
                FoldWide4<TWeights>(i0, i1, i2, i3, a0, a1, a2, a3, blk, subBlocks, dx, (float*)(x + WholeAt), ref f0, ref f1, ref f2, ref f3);
            }
        }

        f0.Store(output);
        f1.Store(output + outputStride);
        f2.Store(output + (2 * outputStride));
        f3.Store(output + (3 * outputStride));
    }

    /// <summary><see cref="FoldWide{TWeights}"/> for four rows, sub-block s (row k's a at <c>ak[s]</c>, its b <paramref name="subBlocks"/> on).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FoldWide4<TWeights>(
        Vector512<int> i0, Vector512<int> i1, Vector512<int> i2, Vector512<int> i3, float* a0, float* a1, float* a2, float* a3,
        int s, int subBlocks, Vector512<float> dx, float* sums,
        ref Vector512<float> f0, ref Vector512<float> f1, ref Vector512<float> f2, ref Vector512<float> f3)
        where TWeights : struct, IKQuantGemmWeights
    {
        FoldWide<TWeights>(i0, i1, a0[s], a0[subBlocks + s], a1[s], a1[subBlocks + s], dx, sums, ref f0, ref f1);
        FoldWide<TWeights>(i2, i3, a2[s], a2[subBlocks + s], a3[s], a3[subBlocks + s], dx, sums, ref f2, ref f3);
    }

    /// <summary><see cref="Start{TWeights}"/> for 16 tokens in one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StartWide<TWeights>(int* sums, out Vector512<int> i0, out Vector512<int> i1)
        where TWeights : struct, IKQuantGemmWeights
    {
        if (TWeights.OffsetShift < 0)
        {
            i0 = i1 = default;
            return;
        }

        i0 = i1 = Vector512<int>.Zero - Vector512.ShiftLeft(Vector512.Load(sums), TWeights.OffsetShift);
    }

    /// <summary><see cref="Fold{TWeights}"/> for 16 tokens in one vector: the same operations per token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FoldWide<TWeights>(
        Vector512<int> i0, Vector512<int> i1, float a0, float b0, float a1, float b1, Vector512<float> dx, float* sums,
        ref Vector512<float> f0, ref Vector512<float> f1)
        where TWeights : struct, IKQuantGemmWeights
    {
        f0 = Simd.MulAdd(Vector512.ConvertToSingle(i0), Vector512.Create(a0) * dx, f0);
        f1 = Simd.MulAdd(Vector512.ConvertToSingle(i1), Vector512.Create(a1) * dx, f1);
        if (TWeights.OffsetShift < 0)
        {
            var s = Vector512.Load(sums);
            f0 = Simd.MulAdd(Vector512.Create(b0), s, f0);
            f1 = Simd.MulAdd(Vector512.Create(b1), s, f1);
        }
    }
}
