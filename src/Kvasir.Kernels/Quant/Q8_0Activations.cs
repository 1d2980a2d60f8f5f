using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>How a weight type whose blocks pair with Q8_0 activations (Q4_0, Q5_0, Q8_0) reads one block.</summary>
internal interface IQ8_0Weights
{
    /// <summary>Bytes per 32-element block; the block starts with its fp16 scale.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>The block's 32 signed values (scale not applied).</summary>
    static abstract Vector256<sbyte> Unpack(ref byte block);
}

/// <summary>
/// Activations of the integer MatMul path for Q4_0, Q5_0 and Q8_0 weights: one token's row quantized to Q8_0
/// blocks, followed by each block's scale widened to a float.
/// <code>
/// offset 0:            block_q8_0[blocks]   (34 bytes each: fp16 d, int8 qs[32]) — ggml's layout, same rounding
/// offset 34 · blocks:  float d[blocks]       (the same d, widened once here instead of once per weight row)
/// </code>
/// </summary>
/// <remarks>
/// Widening an activation half for every block of every weight row cost as much as the integer products
/// themselves: one core, rows in cache, Q8_0 × Q8_0 went from 2.58 to 1.87 ns per block (kb3 harness) with the
/// float scales and the four-block sum below.
/// </remarks>
internal static class Q8_0Activations
{
    /// <summary>Bytes of one token's activations for <paramref name="blocks"/> blocks of 32.</summary>
    public static long RowBytes(int blocks) => ((long)blocks * BlockQ8_0.BlockBytes) + ((long)blocks * sizeof(float));

    /// <summary>Quantizes <paramref name="x"/> (a multiple of 32 floats) into <paramref name="dst"/> (<see cref="RowBytes"/>).</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> dst)
    {
        int blocks = x.Length / BlockQ8_0.BlockSize;
        int quantBytes = blocks * BlockQ8_0.BlockBytes;
        Quant.Quantize.Row(GgmlType.Q8_0, x, dst[..quantBytes]);
        var scales = MemoryMarshal.Cast<byte, float>(dst.Slice(quantBytes, blocks * sizeof(float)));
        for (int b = 0; b < blocks; b++)
        {
            scales[b] = QuantSimd.ReadHalf(dst, b * BlockQ8_0.BlockBytes);
        }
    }

    /// <summary>
    /// Σ_b d_w[b] · d_a[b] · Σ_j q_w[b, j] · q_a[b, j] on AVX2 (callers check <see cref="Avx2.IsSupported"/>):
    /// four blocks' integer sums are folded into one vector by horizontal adds, converted once and multiplied by
    /// the four scale products at once.
    /// </summary>
    public static float Dot<TWeights>(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks)
        where TWeights : struct, IQ8_0Weights
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref byte x = ref MemoryMarshal.GetReference(activations);
        ref byte scales = ref Unsafe.Add(ref x, blocks * BlockQ8_0.BlockBytes);
        int wb = TWeights.BlockBytes;
        const int ab = BlockQ8_0.BlockBytes;
        var acc = Vector256<float>.Zero;
        int b = 0;
        for (; b + 4 <= blocks; b += 4)
        {
            ref byte w = ref Unsafe.Add(ref r, b * wb);
            ref byte a = ref Unsafe.Add(ref x, b * ab);
            var s0 = QuantSimd.DotInt8(TWeights.Unpack(ref w), Vector256.LoadUnsafe(ref Unsafe.Add(ref a, 2)).AsSByte());
            var s1 = QuantSimd.DotInt8(TWeights.Unpack(ref Unsafe.Add(ref w, wb)), Vector256.LoadUnsafe(ref Unsafe.Add(ref a, ab + 2)).AsSByte());
            var s2 = QuantSimd.DotInt8(TWeights.Unpack(ref Unsafe.Add(ref w, 2 * wb)), Vector256.LoadUnsafe(ref Unsafe.Add(ref a, (2 * ab) + 2)).AsSByte());
            var s3 = QuantSimd.DotInt8(TWeights.Unpack(ref Unsafe.Add(ref w, 3 * wb)), Vector256.LoadUnsafe(ref Unsafe.Add(ref a, (3 * ab) + 2)).AsSByte());

            // Lanes [s0 s1 s2 s3 | s0 s1 s2 s3]: low and high halves of each block's sum (|sum| ≤ 32·128·127, exact in float).
            var sums = Avx2.HorizontalAdd(Avx2.HorizontalAdd(s0, s1), Avx2.HorizontalAdd(s2, s3));
            var d = QuantSimd.ReadHalves4(ref w, wb) * Vector128.LoadUnsafe(ref Unsafe.As<byte, float>(ref Unsafe.Add(ref scales, b * sizeof(float))));
            acc = Simd.MulAdd(Vector256.ConvertToSingle(sums), Vector256.Create(d, d), acc);
        }

        var tail = Vector256<float>.Zero;
        for (; b < blocks; b++)
        {
            ref byte w = ref Unsafe.Add(ref r, b * wb);
            var sums = QuantSimd.DotInt8(TWeights.Unpack(ref w), Vector256.LoadUnsafe(ref Unsafe.Add(ref x, (b * ab) + 2)).AsSByte());
            float d = QuantSimd.ReadHalf(ref w) * Unsafe.As<byte, float>(ref Unsafe.Add(ref scales, b * sizeof(float)));
            tail = Simd.MulAdd(Vector256.ConvertToSingle(sums), Vector256.Create(d), tail);
        }

        return Vector256.Sum(acc + tail);
    }
}
