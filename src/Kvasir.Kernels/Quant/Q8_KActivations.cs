using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// Activations of the integer MatMul path for K-quant weights (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K): one token's row quantized to Q8_K
/// blocks, followed by each block's sums over 32 values (its 16 <c>bsums</c> added in pairs).
/// <code>
/// offset 0:             block_q8_K[blocks]   (292 bytes each: float d, int8 qs[256], int16 bsums[16]) — ggml's layout, same rounding
/// offset 292 · blocks:  int16 pairs[blocks][8] (pairs[b][s] = bsums[2s] + bsums[2s + 1], the sum over sub-block s of 32)
/// </code>
/// </summary>
/// <remarks>
/// Q4_K and Q5_K weights subtract <c>dmin · m_s · Σ a</c> per sub-block of 32, so each (row, token, block) needed the
/// activations' 16 sums added in pairs: a horizontal add that depends on the token alone. Done once per token here,
/// it leaves a 16-byte load in the dot products. |pair| ≤ 32 · 127, so the int16 sums are exact, and the products
/// are bit for bit those of the in-loop horizontal add. Q6_K's sub-blocks are 16 values: it reads the bsums.
/// </remarks>
internal static class Q8_KActivations
{
    /// <summary>Sub-blocks of 32 values in a Q8_K block (and pair sums per block).</summary>
    private const int PairsPerBlock = BlockQ8_K.BlockSize / 32;

    /// <summary>Bytes of one token's activations for <paramref name="blocks"/> blocks of 256.</summary>
    public static long RowBytes(int blocks) => (long)blocks * (BlockQ8_K.BlockBytes + (PairsPerBlock * sizeof(short)));

    /// <summary>Quantizes <paramref name="x"/> (a multiple of 256 floats) into <paramref name="dst"/> (<see cref="RowBytes"/>).</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> dst)
    {
        int blocks = x.Length / BlockQ8_K.BlockSize;
        int quantBytes = blocks * BlockQ8_K.BlockBytes;
        Quant.Quantize.Row(GgmlType.Q8_K, x, dst[..quantBytes]);
        var pairs = MemoryMarshal.Cast<byte, short>(dst.Slice(quantBytes, blocks * PairsPerBlock * sizeof(short)));
        for (int b = 0; b < blocks; b++)
        {
            var bsums = MemoryMarshal.Cast<byte, short>(dst.Slice((b * BlockQ8_K.BlockBytes) + 260, 16 * sizeof(short))); // offset 260: bsums
            for (int s = 0; s < PairsPerBlock; s++)
            {
                pairs[(b * PairsPerBlock) + s] = (short)(bsums[2 * s] + bsums[(2 * s) + 1]);
            }
        }
    }

    /// <summary>The 8 pair sums of block <paramref name="b"/> in a token's activations that start at <paramref name="activations"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref short PairSums(ref byte activations, int blocks, int b) =>
        ref Unsafe.As<byte, short>(ref Unsafe.Add(ref activations, (blocks * BlockQ8_K.BlockBytes) + (b * PairsPerBlock * sizeof(short))));
}
