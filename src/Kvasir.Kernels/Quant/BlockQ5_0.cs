using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_q5_0</c>: 32 elements in 22 bytes, <c>value = (q - 16) * d</c> with 5-bit q.
/// <code>
/// offset  0: d   fp16 scale
/// offset  2: qh  uint32 (little-endian): bit j is bit 4 of element j
/// offset  6: qs  uint8[16]: low 4 bits of element j in qs[j] &amp; 0x0F, of element j + 16 in qs[j] >> 4
/// </code>
/// Quantizing follows ggml's reference: <c>d = m / -16</c> (m the signed element of largest magnitude),
/// <c>q = min(31, trunc(x / d + 16.5))</c>.
/// </summary>
internal static class BlockQ5_0
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 22;

    /// <summary>Scalar reference.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BlockBytes, BlockBytes);
            float d = QuantSimd.ReadHalf(block, 0);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[2..]);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int j = 0; j < 16; j++)
            {
                int q0 = (block[6 + j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
                int q1 = (block[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
                y[j] = (q0 - 16) * d;
                y[j + 16] = (q1 - 16) * d;
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

    /// <summary>How the shared loops (<see cref="QuantSimd.DequantizeScaled{TBlock}"/>, <see cref="QuantSimd.DotScaled{TBlock}"/>, at every width) read this format.</summary>
    private readonly struct Scaled : QuantSimd.IScaledBlock
    {
        public static int BlockBytes => BlockQ5_0.BlockBytes;

        public static Vector256<sbyte> Unpack256(ref byte block) => Unpack(ref block);

        public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst) => BlockQ5_0.DequantizeReference(src, dst);

        public static float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x) => BlockQ5_0.DotReference(row, x);

        public static void Unpack128(ref byte block, out Vector128<sbyte> low, out Vector128<sbyte> high) =>
            BlockQ5_0.Unpack128(ref block, out low, out high);
    }

    /// <summary>A block's 32 values q − 16 as two Vector128s: elements 0–15 (low nibbles, qh bits 0–15) and 16–31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack128(ref byte block, out Vector128<sbyte> low, out Vector128<sbyte> high)
    {
        var bytes = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 6));
        uint qh = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 2));

        // As the AVX2 path: a clear fifth bit ORs 0xF0 onto the nibble (as a signed byte, nibble − 16), a set one leaves
        // the nibble ((nibble + 16) − 16), which saves the subtraction.
        var f0 = Vector128.Create((byte)0xF0);
        low = ((bytes & Vector128.Create((byte)0x0F)) | Vector128.AndNot(f0, QuantSimd.BitMask16(qh))).AsSByte();
        high = ((bytes >>> 4) | Vector128.AndNot(f0, QuantSimd.BitMask16(qh >> 16))).AsSByte();
    }

    /// <summary>ggml's reference quantizer (<c>quantize_row_q5_0_ref</c>).</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BlockBytes, BlockBytes);
            float amax = 0;
            float max = 0;
            foreach (float v in x)
            {
                if (amax < MathF.Abs(v))
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }

            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            QuantSimd.WriteHalf(block, 0, d);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(31, (int)((x[j] * id) + 16.5f));
                int q1 = Math.Min(31, (int)((x[j + 16] * id) + 16.5f));
                block[6 + j] = (byte)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= (uint)((q0 >> 4) & 1) << j;
                qh |= (uint)((q1 >> 4) & 1) << (j + 16);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(block[2..], qh);
        }
    }

    /// <summary>The block's 32 signed values q - 16 in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Unpack(ref byte block)
    {
        if (Avx2.IsSupported)
        {
            var low = QuantSimd.SplitNibbles(Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 6)));
            uint qh = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 2));

            // As llama.cpp: a clear fifth bit ORs 0xF0 onto the nibble, which as a signed byte is nibble − 16; a set
            // one leaves the nibble, which is (nibble + 16) − 16.
            return (low | Vector256.AndNot(Vector256.Create((byte)0xF0), QuantSimd.HighBitMask(qh))).AsSByte();
        }

        return (UnpackUnsigned(ref block) - Vector256.Create((byte)16)).AsSByte();
    }

    /// <summary>The block's 32 stored 5-bit values q (0..31) in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> UnpackUnsigned(ref byte block) =>
        QuantSimd.SplitNibbles(Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 6))) | QuantSimd.HighBits(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 2)));

    /// <summary>
    /// Scalar reference of the integer dot product with activations quantized to Q8_0 (llama.cpp's
    /// vec_dot_q5_0_q8_0): per block <c>d_w · d_a · Σ q_w·q_a</c>, the inner sum exact in int32.
    /// </summary>
    /// <param name="row"><paramref name="blocks"/> blocks of weights.</param>
    /// <param name="activations">The same number of <see cref="BlockQ8_0"/> blocks.</param>
    /// <param name="blocks">Blocks to multiply.</param>
    public static float DotQ8_0Reference(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks)
    {
        Span<sbyte> q = stackalloc sbyte[BlockSize];
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            var block = row.Slice(b * BlockBytes, BlockBytes);
            var a = activations.Slice(b * BlockQ8_0.BlockBytes, BlockQ8_0.BlockBytes);
            UnpackReference(block, q);
            int isum = 0;
            for (int j = 0; j < BlockSize; j++)
            {
                isum += q[j] * (sbyte)a[2 + j];
            }

            sum += QuantSimd.ReadHalf(block, 0) * QuantSimd.ReadHalf(a, 0) * isum;
        }

        return sum;
    }

    /// <summary>
    /// The integer dot product with <see cref="Q8_0Activations"/> (Q8_0 blocks, then their scales as floats) on AVX2
    /// (vpmaddubsw; 512-bit where <paramref name="width"/> allows, bit-identical), else the reference (which reads the
    /// blocks only).
    /// </summary>
    public static float DotQ8_0(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks, SimdWidth width) =>
        width < SimdWidth.V256 || !Avx2.IsSupported
            ? DotQ8_0Reference(row, activations, blocks)
            : Q8_0Activations.Dot<Weights>(row, activations, blocks, width);

    /// <summary>This type's blocks for <see cref="Q8_0Activations.Dot{TWeights}"/>.</summary>
    internal readonly struct Weights : IQ8_0Weights
    {
        public static int BlockBytes => BlockQ5_0.BlockBytes;

        // Signed (the 0xF0 trick): unsigned q with the offset measured no faster here (21.7 vs 22.5 GFLOP/s, kbench).
        public static int OffsetShift => -1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Unpack(ref byte block) => BlockQ5_0.Unpack(ref block).AsByte();
    }

    /// <summary>
    /// This type's blocks for the integer GEMM (<see cref="Q8_0Gemm"/>): the stored 5-bit q (0..31), the offset 16 taken
    /// off through the tokens' block sums. Values of five bits let the 512-bit kernel sum four steps of
    /// <c>vpmaddubsw</c> in int16 before each flush (as for Q5_K) where the signed form, an 8-bit value there, had to be
    /// split into nibbles (two products per step) and was left to the AVX-VNNI kernel; the sums are exact either way, so
    /// the results are the same bits.
    /// </summary>
    internal readonly struct GemmWeights : IQ8_0Weights
    {
        public static int BlockBytes => BlockQ5_0.BlockBytes;

        public static int OffsetShift => 4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Unpack(ref byte block) => UnpackUnsigned(ref block);
    }

    /// <summary>The block's 32 signed values q - 16 (reference).</summary>
    private static void UnpackReference(ReadOnlySpan<byte> block, Span<sbyte> q)
    {
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[2..]);
        for (int j = 0; j < 16; j++)
        {
            q[j] = (sbyte)(((block[6 + j] & 0x0F) | (int)(((qh >> j) & 1) << 4)) - 16);
            q[j + 16] = (sbyte)(((block[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16);
        }
    }
}
