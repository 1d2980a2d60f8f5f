using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_q3_K</c>: a super-block of 256 elements in 110 bytes, as 16 sub-blocks of 16 elements with a
/// 6-bit scale each: <c>value = d * (sc[s] - 32) * q</c>, q a signed 3-bit value (−4..3).
/// <code>
/// offset   0: hmask   uint8[32]: the third bit of each value
/// offset  32: qs      uint8[64]: the low 2 bits of each value
/// offset  96: scales  uint8[12]: 16 6-bit scales, s &lt; 8: low 4 bits in the low nibble of scales[s], s ≥ 8: in the
///                                high nibble of scales[s − 8]; the top 2 bits of sc[s] at bits 2(s / 4) of scales[8 + s % 4]
/// offset 108: d       fp16
/// Element 128n + 32j + l (half n = 0, 1; group j = 0..3; l = 0..31), in sub-block s = 8n + 2j + l / 16:
///   q = ((qs[32n + l] >> 2j) &amp; 3) − (bit 4n + j of hmask[l] set ? 0 : 4)
/// </code>
/// </summary>
/// <remarks>
/// The integer dot takes the stored bits as an unsigned value u = low | hbit &lt;&lt; 2 (0..7, q = u − 4), so each
/// group of 32 is one vpmaddubsw, and the offset comes back through the activations' block sums, as for
/// <see cref="BlockQ6_K"/>: Σ sc·(u − 4)·a = Σ sc·u·a − 4·Σ_s sc_s·bsum_s.
/// </remarks>
internal static partial class BlockQ3_K
{
    /// <summary>Elements per super-block.</summary>
    public const int BlockSize = 256;

    /// <summary>Bytes per super-block.</summary>
    public const int BlockBytes = 110;

    /// <summary>The 16 signed scales (sc − 32, −32..31) of a super-block, one sub-block at a time (the reference).</summary>
    public static void ScalesReference(ReadOnlySpan<byte> block, Span<sbyte> scales)
    {
        var packed = block.Slice(96, 12);
        for (int s = 0; s < 16; s++)
        {
            int low = s < 8 ? packed[s] & 0x0F : packed[s - 8] >> 4;
            int high = (packed[8 + (s % 4)] >> (2 * (s / 4))) & 3;
            scales[s] = (sbyte)((low | (high << 4)) - 32);
        }
    }

    /// <summary>
    /// The 16 signed scales of a super-block at once, as ggml unpacks them: four 32-bit words, each holding the low
    /// nibbles (or high nibbles) of four packed bytes with their top two bits from the last word of the 12 bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> Scales(ref byte block)
    {
        const uint nibbles = 0x0F0F0F0F, pairs = 0x03030303;
        uint w0 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 96));
        uint w1 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 100));
        uint top = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 104));
        var unsigned = Vector128.Create(
            (w0 & nibbles) | ((top & pairs) << 4),
            (w1 & nibbles) | (((top >> 2) & pairs) << 4),
            ((w0 >> 4) & nibbles) | (((top >> 4) & pairs) << 4),
            ((w1 >> 4) & nibbles) | (((top >> 6) & pairs) << 4));
        return (unsigned.AsByte() - Vector128.Create((byte)32)).AsSByte();
    }

    /// <summary>Scalar reference.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Span<sbyte> sc = stackalloc sbyte[16];
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BlockBytes, BlockBytes);
            ScalesReference(block, sc);
            float d = QuantSimd.ReadHalf(block, 108);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int i = 0; i < BlockSize; i++)
            {
                y[i] = d * sc[i / 16] * ValueAt(block, i);
            }
        }
    }

    /// <summary>The signed 3-bit value (−4..3) of element <paramref name="i"/> of a super-block.</summary>
    private static int ValueAt(ReadOnlySpan<byte> block, int i)
    {
        int n = i / 128;
        int j = (i % 128) / 32;
        int l = i % 32;
        int low = (block[32 + (32 * n) + l] >> (2 * j)) & 3;
        bool high = (block[l] & (1 << ((4 * n) + j))) != 0;
        return low - (high ? 0 : 4);
    }

    /// <summary>Dequantizes on Vector256 (or Vector128) when allowed (bit-exact with the reference), else the reference.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
    {
        if (QuantSimd.Use128(width))
        {
            Dequantize128(src, dst);
            return;
        }

        if (width < SimdWidth.V256 || !Vector256.IsHardwareAccelerated)
        {
            DequantizeReference(src, dst);
            return;
        }

        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float y = ref MemoryMarshal.GetReference(dst);
        Span<sbyte> sc = stackalloc sbyte[16];
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            Scales(ref block).StoreUnsafe(ref MemoryMarshal.GetReference(sc));
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 108));
            var hmask = Vector256.LoadUnsafe(ref block);
            for (int n = 0; n < 2; n++)
            {
                Unpack(Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 32 + (32 * n))), HalfMask(hmask, n), out var u0, out var u1, out var u2, out var u3);
                ref float yh = ref Unsafe.Add(ref y, (b * BlockSize) + (128 * n));
                QuantSimd.Store32Halves(Signed(u0), d * sc[8 * n], d * sc[(8 * n) + 1], ref yh);
                QuantSimd.Store32Halves(Signed(u1), d * sc[(8 * n) + 2], d * sc[(8 * n) + 3], ref Unsafe.Add(ref yh, 32));
                QuantSimd.Store32Halves(Signed(u2), d * sc[(8 * n) + 4], d * sc[(8 * n) + 5], ref Unsafe.Add(ref yh, 64));
                QuantSimd.Store32Halves(Signed(u3), d * sc[(8 * n) + 6], d * sc[(8 * n) + 7], ref Unsafe.Add(ref yh, 96));
            }
        }
    }

    /// <summary>The hmask bits of half <paramref name="n"/> moved to bits 0..3 of each byte (16-bit shift: bits 0..3 stay clean).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> HalfMask(Vector256<byte> hmask, int n) => n == 0 ? hmask : (hmask.AsUInt16() >> 4).AsByte();

    /// <summary>
    /// A half's four groups of 32 unsigned values u = q + 4 (0..7): the low bits of group j at bits 2j of
    /// <paramref name="low"/>, bit 2 from bit j of <paramref name="hm"/> (<see cref="HalfMask"/>). The shifts are
    /// 16-bit; the bits they carry across bytes fall outside the masks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack(
        Vector256<byte> low, Vector256<byte> hm, out Vector256<byte> u0, out Vector256<byte> u1, out Vector256<byte> u2, out Vector256<byte> u3)
    {
        var three = Vector256.Create((byte)3);
        var four = Vector256.Create((byte)4);
        u0 = (low & three) | ((hm.AsUInt16() << 2).AsByte() & four);
        u1 = ((low.AsUInt16() >> 2).AsByte() & three) | ((hm.AsUInt16() << 1).AsByte() & four);
        u2 = ((low.AsUInt16() >> 4).AsByte() & three) | (hm & four);
        u3 = ((low.AsUInt16() >> 6).AsByte() & three) | ((hm.AsUInt16() >> 1).AsByte() & four);
    }

    /// <summary>
    /// A super-block's 256 unsigned values u = q + 4 (0..7) in element order into <paramref name="u"/>, for
    /// <see cref="KQuantGemm"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void UnpackUnsigned(byte* block, byte* u)
    {
        var hmask = Vector256.Load(block);
        for (int n = 0; n < 2; n++)
        {
            Unpack(Vector256.Load(block + 32 + (32 * n)), HalfMask(hmask, n), out var u0, out var u1, out var u2, out var u3);
            byte* e = u + (128 * n);
            u0.Store(e);
            u1.Store(e + 32);
            u2.Store(e + 64);
            u3.Store(e + 96);
        }
    }

    /// <summary>The signed values q = u − 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Signed(Vector256<byte> u) => (u - Vector256.Create((byte)4)).AsSByte();

    /// <summary>Scalar reference dot product: Σ dequantized[i] · x[i].</summary>
    public static unsafe float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x) =>
        QuantSimd.DotReference(row, x, BlockSize, BlockBytes, &DequantizeReference);

    /// <summary>Dot product on Vector256 (or Vector128) when allowed, else the reference.</summary>
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width)
    {
        if (QuantSimd.Use128(width))
        {
            return Dot128(row, x);
        }

        if (width < SimdWidth.V256 || !Vector256.IsHardwareAccelerated)
        {
            return DotReference(row, x);
        }

        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        Span<sbyte> sc = stackalloc sbyte[16];
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            Scales(ref block).StoreUnsafe(ref MemoryMarshal.GetReference(sc));
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 108));
            var hmask = Vector256.LoadUnsafe(ref block);
            for (int n = 0; n < 2; n++)
            {
                Unpack(Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 32 + (32 * n))), HalfMask(hmask, n), out var u0, out var u1, out var u2, out var u3);
                ref float xh = ref Unsafe.Add(ref xr, (b * BlockSize) + (128 * n));
                acc = Accumulate(Signed(u0), d, sc, (8 * n) + 0, ref xh, acc);
                acc = Accumulate(Signed(u1), d, sc, (8 * n) + 2, ref Unsafe.Add(ref xh, 32), acc);
                acc = Accumulate(Signed(u2), d, sc, (8 * n) + 4, ref Unsafe.Add(ref xh, 64), acc);
                acc = Accumulate(Signed(u3), d, sc, (8 * n) + 6, ref Unsafe.Add(ref xh, 96), acc);
            }
        }

        return Vector256.Sum(acc);
    }

    /// <summary>acc + Σ q·x of 32 values whose two halves of 16 take the scales d·sc[s] and d·sc[s + 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(Vector256<sbyte> q, float d, ReadOnlySpan<sbyte> sc, int s, ref float x, Vector256<float> acc)
    {
        QuantSimd.Dot32(q, ref x, out var first, out var second);
        acc = Simd.MulAdd(first, Vector256.Create(d * sc[s]), acc);
        return Simd.MulAdd(second, Vector256.Create(d * sc[s + 1]), acc);
    }

    /// <summary>
    /// Scalar reference of the integer dot product with Q8_K activations (llama.cpp's vec_dot_q3_K_q8_K):
    /// per super-block <c>d_w·d_a·Σ_s sc_s·Σ q_w·q_a</c>, the sums exact in int32.
    /// </summary>
    /// <param name="row">Super-blocks of weights.</param>
    /// <param name="activations">The same number of <see cref="BlockQ8_K"/> blocks.</param>
    /// <param name="blocks">Super-blocks to multiply.</param>
    public static float DotQ8_KReference(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks)
    {
        Span<sbyte> sc = stackalloc sbyte[16];
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            var block = row.Slice(b * BlockBytes, BlockBytes);
            var a = activations.Slice(b * BlockQ8_K.BlockBytes, BlockQ8_K.BlockBytes);
            ScalesReference(block, sc);
            int sumi = 0;
            for (int i = 0; i < BlockSize; i++)
            {
                sumi += sc[i / 16] * ValueAt(block, i) * (sbyte)a[4 + i];
            }

            sum += QuantSimd.ReadHalf(block, 108) * MemoryMarshal.Read<float>(a) * sumi;
        }

        return sum;
    }

    /// <summary>
    /// The integer dot product with Q8_K activations on AVX2 (the same code at every width from
    /// <see cref="SimdWidth.V256"/>), else the reference: per group of 32, one vpmaddubsw of the unsigned values
    /// (0..7) with the activations and one vpmaddwd with the pair of sub-block scales; the offset of 4 through
    /// the activations' block sums (<see cref="BlockQ6_K.FloatStep"/>).
    /// </summary>
    public static float DotQ8_K(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks, SimdWidth width)
    {
        if (width < SimdWidth.V256 || !Avx2.IsSupported)
        {
            return DotQ8_KReference(row, activations, blocks);
        }

        ref byte r = ref MemoryMarshal.GetReference(row);
        ref byte x = ref MemoryMarshal.GetReference(activations);
        var acc = Vector256<float>.Zero;
        var offsets = Vector256<float>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            Simd.PrefetchAhead(ref block, BlockBytes);
            ref byte a = ref Unsafe.Add(ref x, (b * BlockQ8_K.BlockBytes) + 4);
            var scales = Avx2.ConvertToVector256Int16(Scales(ref block));
            BlockQ6_K.HalfScales(scales, out var low, out var high);
            var hmask = Vector256.LoadUnsafe(ref block);
            var sumi = HalfSum(Vector256.LoadUnsafe(ref block, 32), hmask, ref a, low)
                + HalfSum(Vector256.LoadUnsafe(ref block, 64), HalfMask(hmask, 1), ref Unsafe.Add(ref a, 128), high);
            BlockQ6_K.FloatStep(sumi, QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 108)), scales, ref x, b, ref acc, ref offsets);
        }

        return Vector256.Sum(acc) - (4 * Vector256.Sum(offsets));
    }

    /// <summary>
    /// <see cref="DotQ8_K"/> of one row with four tokens at once (AVX2 only; the same body at every width): the row's
    /// values and scales are unpacked once for all four, and each token's arithmetic is the one it gets alone, so
    /// <c>results[t]</c> is bit-identical to <see cref="DotQ8_K"/> of token t.
    /// </summary>
    /// <param name="row">The weight row's super-blocks.</param>
    /// <param name="activations">Token 0's <see cref="Q8_KActivations"/> row; token t's starts t · <paramref name="stride"/> bytes later.</param>
    /// <param name="stride">Bytes from one token's activations to the next.</param>
    /// <param name="blocks">Super-blocks in the row.</param>
    /// <param name="results">Four floats: the dot with each token.</param>
    public static unsafe void DotQ8_K4(byte* row, byte* activations, long stride, int blocks, float* results) =>
        DotQ8_KTokens(row, activations, stride, blocks, results, 4);

    /// <summary><see cref="DotQ8_K4"/> with eight tokens a pass (the same per-token arithmetic, so the same bits).</summary>
    /// <param name="row">The weight row's super-blocks.</param>
    /// <param name="activations">Token 0's <see cref="Q8_KActivations"/> row; token t's starts t · <paramref name="stride"/> bytes later.</param>
    /// <param name="stride">Bytes from one token's activations to the next.</param>
    /// <param name="blocks">Super-blocks in the row.</param>
    /// <param name="results">Eight floats: the dot with each token.</param>
    public static unsafe void DotQ8_K8(byte* row, byte* activations, long stride, int blocks, float* results) =>
        DotQ8_KTokens(row, activations, stride, blocks, results, 8);

    /// <summary>The body of <see cref="DotQ8_K4"/> and <see cref="DotQ8_K8"/> for <paramref name="tokens"/> (at most 8) tokens.</summary>
    private static unsafe void DotQ8_KTokens(byte* row, byte* activations, long stride, int blocks, float* results, int tokens)
    {
        var acc = stackalloc Vector256<float>[8];
        var offsets = stackalloc Vector256<float>[8];
        for (int t = 0; t < tokens; t++)
        {
            acc[t] = Vector256<float>.Zero;
            offsets[t] = Vector256<float>.Zero;
        }

        for (int b = 0; b < blocks; b++)
        {
            byte* block = row + ((long)b * BlockBytes);
            var scales = Avx2.ConvertToVector256Int16(Scales(ref *block));
            BlockQ6_K.HalfScales(scales, out var low, out var high);
            var hmask = Vector256.Load(block);
            Unpack(Vector256.Load(block + 32), hmask, out var u0, out var u1, out var u2, out var u3);
            Unpack(Vector256.Load(block + 64), HalfMask(hmask, 1), out var u4, out var u5, out var u6, out var u7);
            float dw = QuantSimd.ReadHalf(ref *(block + 108));
            for (int t = 0; t < tokens; t++)
            {
                byte* x = activations + (t * stride);
                byte* a = x + ((long)b * BlockQ8_K.BlockBytes) + 4;
                var sumi = BlockQ6_K.HalfSum(u0, u1, u2, u3, ref *a, low) + BlockQ6_K.HalfSum(u4, u5, u6, u7, ref *(a + 128), high);
                BlockQ6_K.FloatStep(sumi, dw, scales, ref *x, b, ref acc[t], ref offsets[t]);
            }
        }

        for (int t = 0; t < tokens; t++)
        {
            results[t] = Vector256.Sum(acc[t]) - (4 * Vector256.Sum(offsets[t]));
        }
    }

    /// <summary>Σ sc·u·a of one half (128 elements) as 8 int32 partial sums; <paramref name="scales"/>: the half's 8 int16 scales in both lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> HalfSum(Vector256<byte> low, Vector256<byte> hm, ref byte a, Vector256<byte> scales)
    {
        Unpack(low, hm, out var u0, out var u1, out var u2, out var u3);
        return BlockQ6_K.HalfSum(u0, u1, u2, u3, ref a, scales);
    }

}
