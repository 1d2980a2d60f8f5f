using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_iq4_nl</c>: 32 elements in 18 bytes, <c>value = d * Values[q]</c> with 4-bit q indexing a fixed
/// non-linear grid of 16 int8 levels (<see cref="Values"/>).
/// <code>
/// offset  0: d   fp16 scale
/// offset  2: qs  uint8[16]: element j      = Values[qs[j] &amp; 0x0F]   (j = 0..15)
///                           element j + 16 = Values[qs[j] >> 4]
/// </code>
/// </summary>
/// <remarks>
/// The SIMD paths look the levels up with a byte shuffle (<c>vpshufb</c>, the 16 levels in each 128-bit lane); the
/// integer dot then multiplies the signed levels with <see cref="Q8_0Activations"/> as Q8_0 weights are (the sign
/// moved onto the activations).
/// </remarks>
internal static class BlockIQ4_NL
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 18;

    /// <summary>The 16 levels of the IQ4_NL and IQ4_XS grids (ggml's <c>kvalues_iq4nl</c>).</summary>
    public static ReadOnlySpan<sbyte> Values => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <summary>The 16 levels as a vector (the shuffle table).</summary>
    public static Vector128<sbyte> LevelTable => Vector128.Create(Values);

    /// <summary>Scalar reference.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BlockBytes, BlockBytes);
            float d = QuantSimd.ReadHalf(block, 0);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int j = 0; j < 16; j++)
            {
                y[j] = d * Values[block[2 + j] & 0x0F];
                y[j + 16] = d * Values[block[2 + j] >> 4];
            }
        }
    }

    /// <summary>Dequantizes on Vector256 (or Vector128) when allowed (bit-exact with the reference), else the reference.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width) =>
        QuantSimd.DequantizeScaled<Scaled>(src, dst, width);

    /// <summary>Scalar reference dot product: Σ dequantized[i] · x[i].</summary>
    public static unsafe float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x) =>
        QuantSimd.DotReference(row, x, BlockSize, BlockBytes, &DequantizeReference);

    /// <summary>Dot product on Vector256 (or Vector128) when allowed, else the reference.</summary>
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width) =>
        QuantSimd.DotScaled<Scaled>(row, x, width);

    /// <summary>
    /// 32 nibbles looked up in the grid: the in-lane byte shuffle (AVX2) with the 16 levels in both lanes, else the
    /// portable shuffle (indices below 16 pick the same levels from either half).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Levels(Vector256<byte> nibbles) =>
        Avx2.IsSupported
            ? Avx2.Shuffle(Vector256.Create(LevelTable, LevelTable), nibbles.AsSByte())
            : Vector256.Shuffle(Vector256.Create(LevelTable, LevelTable), nibbles.AsSByte());

    /// <summary>The block's 32 signed levels in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Unpack(ref byte block) =>
        Levels(QuantSimd.SplitNibbles(Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 2))));

    /// <summary>How the shared loops (<see cref="QuantSimd.DequantizeScaled{TBlock}"/>, <see cref="QuantSimd.DotScaled{TBlock}"/>, at every width) read this format.</summary>
    private readonly struct Scaled : QuantSimd.IScaledBlock
    {
        public static int BlockBytes => BlockIQ4_NL.BlockBytes;

        public static Vector256<sbyte> Unpack256(ref byte block) => Unpack(ref block);

        public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst) => BlockIQ4_NL.DequantizeReference(src, dst);

        public static float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x) => BlockIQ4_NL.DotReference(row, x);

        public static void Unpack128(ref byte block, out Vector128<sbyte> low, out Vector128<sbyte> high)
        {
            var bytes = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 2));
            low = Vector128.Shuffle(LevelTable, (bytes & Vector128.Create((byte)0x0F)).AsSByte());
            high = Vector128.Shuffle(LevelTable, (bytes >>> 4).AsSByte());
        }
    }

    /// <summary>
    /// Scalar reference of the integer dot product with activations quantized to Q8_0 (llama.cpp's
    /// vec_dot_iq4_nl_q8_0): per block <c>d_w · d_a · Σ level·q_a</c>, the inner sum exact in int32.
    /// </summary>
    /// <param name="row"><paramref name="blocks"/> blocks of weights.</param>
    /// <param name="activations">The same number of <see cref="BlockQ8_0"/> blocks.</param>
    /// <param name="blocks">Blocks to multiply.</param>
    public static float DotQ8_0Reference(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks)
    {
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            var block = row.Slice(b * BlockBytes, BlockBytes);
            var a = activations.Slice(b * BlockQ8_0.BlockBytes, BlockQ8_0.BlockBytes);
            int isum = 0;
            for (int j = 0; j < 16; j++)
            {
                isum += (Values[block[2 + j] & 0x0F] * (sbyte)a[2 + j]) + (Values[block[2 + j] >> 4] * (sbyte)a[18 + j]);
            }

            sum += QuantSimd.ReadHalf(block, 0) * QuantSimd.ReadHalf(a, 0) * isum;
        }

        return sum;
    }

    /// <summary>
    /// The integer dot product with <see cref="Q8_0Activations"/> on AVX2 (512-bit where <paramref name="width"/>
    /// allows, bit-identical), else the reference.
    /// </summary>
    public static float DotQ8_0(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks, SimdWidth width) =>
        width < SimdWidth.V256 || !Avx2.IsSupported
            ? DotQ8_0Reference(row, activations, blocks)
            : Q8_0Activations.Dot<Weights>(row, activations, blocks, width);

    /// <summary>This type's blocks for <see cref="Q8_0Activations.Dot{TWeights}"/>: signed levels, as Q8_0's values.</summary>
    internal readonly struct Weights : IQ8_0Weights
    {
        public static int BlockBytes => BlockIQ4_NL.BlockBytes;

        public static int OffsetShift => -1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Unpack(ref byte block) => BlockIQ4_NL.Unpack(ref block).AsByte();
    }
}
