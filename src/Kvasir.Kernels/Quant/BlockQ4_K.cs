using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_q4_K</c>: a super-block of 256 elements in 144 bytes, as 8 sub-blocks of 32 elements
/// with a 6-bit scale and a 6-bit min each: <c>value = d * sc[s] * q - dmin * m[s]</c>, 4-bit q.
/// <code>
/// offset  0: d       fp16 super-block scale of the scales
/// offset  2: dmin    fp16 super-block scale of the mins
/// offset  4: scales  uint8[12]: eight (sc, m) pairs of 6 bits, packed
///            s &lt; 4:  sc = scales[s] &amp; 63               m = scales[s + 4] &amp; 63
///            s ≥ 4:  sc = (scales[s + 4] &amp; 0x0F) | (scales[s - 4] >> 6) &lt;&lt; 4
///                    m  = (scales[s + 4] >> 4)   | (scales[s]     >> 6) &lt;&lt; 4
/// offset 16: qs      uint8[128], four chunks of 32 bytes; chunk c covers elements 64c .. 64c+63:
///            element 64c + l      = qs[32c + l] &amp; 0x0F  (sub-block 2c)
///            element 64c + 32 + l = qs[32c + l] >> 4    (sub-block 2c + 1)
/// </code>
/// Only dequantize and dot are provided: K-quant weights come from llama.cpp's quantizer.
/// </summary>
internal static partial class BlockQ4_K
{
    /// <summary>Elements per super-block.</summary>
    public const int BlockSize = 256;

    /// <summary>Bytes per super-block.</summary>
    public const int BlockBytes = 144;

    /// <summary>Unpacks the 6-bit scale and min of sub-block <paramref name="s"/> (0..7) from the 12 packed bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScaleMin(ref byte scales, int s, out int sc, out int m)
    {
        if (s < 4)
        {
            sc = Unsafe.Add(ref scales, s) & 63;
            m = Unsafe.Add(ref scales, s + 4) & 63;
        }
        else
        {
            sc = (Unsafe.Add(ref scales, s + 4) & 0x0F) | ((Unsafe.Add(ref scales, s - 4) >> 6) << 4);
            m = (Unsafe.Add(ref scales, s + 4) >> 4) | ((Unsafe.Add(ref scales, s) >> 6) << 4);
        }
    }

    /// <summary>Scalar reference.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BlockBytes, BlockBytes);
            float d = QuantSimd.ReadHalf(block, 0);
            float dmin = QuantSimd.ReadHalf(block, 2);
            ref byte scales = ref MemoryMarshal.GetReference(block[4..]);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int c = 0; c < 4; c++)
            {
                ScaleMin(ref scales, 2 * c, out int sc0, out int m0);
                ScaleMin(ref scales, (2 * c) + 1, out int sc1, out int m1);
                float d0 = d * sc0;
                float min0 = dmin * m0;
                float d1 = d * sc1;
                float min1 = dmin * m1;
                for (int l = 0; l < 32; l++)
                {
                    int q = block[16 + (32 * c) + l];
                    y[(64 * c) + l] = (d0 * (q & 0x0F)) - min0;
                    y[(64 * c) + 32 + l] = (d1 * (q >> 4)) - min1;
                }
            }
        }
    }

    /// <summary>Dequantizes on Vector256 (or Vector128) when allowed (bit-exact with the reference), else the reference.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
    {
        if (QuantSimd.Use128(width))
        {
            DequantizeK128<Chunks128>(src, dst);
            return;
        }

        if (width < SimdWidth.V256 || !Vector256.IsHardwareAccelerated)
        {
            DequantizeReference(src, dst);
            return;
        }

        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float y = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            ref float yb = ref Unsafe.Add(ref y, b * BlockSize);
            float d = QuantSimd.ReadHalf(ref block);
            float dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 2));
            ref byte scales = ref Unsafe.Add(ref block, 4);
            for (int c = 0; c < 4; c++)
            {
                ScaleMin(ref scales, 2 * c, out int sc0, out int m0);
                ScaleMin(ref scales, (2 * c) + 1, out int sc1, out int m1);
                var packed = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 16 + (32 * c)));
                var low = (packed & Vector256.Create((byte)0x0F)).AsSByte();
                var high = (packed >>> 4).AsSByte();
                QuantSimd.Store32(low, d * sc0, -(dmin * m0), ref Unsafe.Add(ref yb, 64 * c));
                QuantSimd.Store32(high, d * sc1, -(dmin * m1), ref Unsafe.Add(ref yb, (64 * c) + 32));
            }
        }
    }

    /// <summary>Scalar reference dot product: Σ dequantized[i] · x[i].</summary>
    public static unsafe float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x) =>
        QuantSimd.DotReference(row, x, BlockSize, BlockBytes, &DequantizeReference);

    /// <summary>Dot product on Vector256 (or Vector128) when allowed, else the reference: Σ_s d·sc·(q·x) − dmin·m·Σx.</summary>
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width)
    {
        if (QuantSimd.Use128(width))
        {
            return DotK128<Chunks128>(row, x);
        }

        if (width < SimdWidth.V256 || !Vector256.IsHardwareAccelerated)
        {
            return DotReference(row, x);
        }

        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            ref float xb = ref Unsafe.Add(ref xr, b * BlockSize);
            float d = QuantSimd.ReadHalf(ref block);
            float dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 2));
            ref byte scales = ref Unsafe.Add(ref block, 4);
            for (int c = 0; c < 4; c++)
            {
                ScaleMin(ref scales, 2 * c, out int sc0, out int m0);
                ScaleMin(ref scales, (2 * c) + 1, out int sc1, out int m1);
                var packed = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 16 + (32 * c)));
                ref float x0 = ref Unsafe.Add(ref xb, 64 * c);
                ref float x1 = ref Unsafe.Add(ref xb, (64 * c) + 32);
                acc = Simd.MulAdd(QuantSimd.Dot32((packed & Vector256.Create((byte)0x0F)).AsSByte(), ref x0), Vector256.Create(d * sc0), acc);
                acc = Simd.MulAdd(QuantSimd.Sum32(ref x0), Vector256.Create(-(dmin * m0)), acc);
                acc = Simd.MulAdd(QuantSimd.Dot32((packed >>> 4).AsSByte(), ref x1), Vector256.Create(d * sc1), acc);
                acc = Simd.MulAdd(QuantSimd.Sum32(ref x1), Vector256.Create(-(dmin * m1)), acc);
            }
        }

        return Vector256.Sum(acc);
    }

    /// <summary>
    /// Scalar reference of the integer dot product with Q8_K activations (llama.cpp's vec_dot_q4_K_q8_K):
    /// per super-block <c>d_w·d_a·Σ_s sc_s·Σ q_w·q_a − dmin·d_a·Σ_s m_s·Σ q_a</c>, the sums exact in int32.
    /// </summary>
    /// <param name="row">Super-blocks of weights.</param>
    /// <param name="activations">The same number of <see cref="BlockQ8_K"/> blocks.</param>
    /// <param name="blocks">Super-blocks to multiply.</param>
    public static float DotQ8_KReference(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks)
    {
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            var block = row.Slice(b * BlockBytes, BlockBytes);
            var a = activations.Slice(b * BlockQ8_K.BlockBytes, BlockQ8_K.BlockBytes);
            float da = MemoryMarshal.Read<float>(a);
            ref byte scales = ref MemoryMarshal.GetReference(block[4..]);
            int sumi = 0;
            int summ = 0;
            for (int s = 0; s < 8; s++)
            {
                ScaleMin(ref scales, s, out int sc, out int m);
                int isum = 0;
                int asum = 0;
                for (int l = 0; l < 32; l++)
                {
                    int i = (32 * s) + l;
                    int packed = block[16 + (32 * (s / 2)) + l];
                    int q = s % 2 == 0 ? packed & 0x0F : packed >> 4;
                    isum += q * (sbyte)a[4 + i];
                    asum += (sbyte)a[4 + i];
                }

                sumi += sc * isum;
                summ += m * asum;
            }

            sum += (QuantSimd.ReadHalf(block, 0) * da * sumi) - (QuantSimd.ReadHalf(block, 2) * da * summ);
        }

        return sum;
    }

    /// <summary>
    /// The integer dot product with Q8_K activations on AVX2 (512-bit where <paramref name="width"/> allows:
    /// <see cref="DotQ8_K512"/>, bit-identical), else the reference. The 12 packed bytes of scales and
    /// mins are unpacked once per super-block with 32-bit masks (8 scales, 8 mins, widened to int16 together); the
    /// mins meet the activations' block sums in one vpmaddwd; each sub-block's scale is broadcast by a byte shuffle.
    /// </summary>
    public static float DotQ8_K(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks, SimdWidth width)
    {
        if (width < SimdWidth.V256 || !Avx2.IsSupported)
        {
            return DotQ8_KReference(row, activations, blocks);
        }

        if (width >= SimdWidth.V512)
        {
            return DotQ8_K512(row, activations, blocks);
        }

        unsafe
        {
            fixed (byte* r = row)
            fixed (byte* x = activations)
            {
                return DotQ8_K256<Chunks256>(r, x, blocks);
            }
        }
    }

    /// <summary>
    /// <see cref="DotQ8_K"/> of one row with four tokens at once (AVX2 only; 512-bit where <paramref name="width"/>
    /// allows): the row's nibbles, scales and mins are unpacked once for all four, and each token's arithmetic is the
    /// one it gets alone, so <c>results[t]</c> is bit-identical to <see cref="DotQ8_K"/> of token t (batched decode
    /// does not change a sequence's logits).
    /// </summary>
    /// <param name="row">The weight row's super-blocks.</param>
    /// <param name="activations">Token 0's <see cref="BlockQ8_K"/> row; token t's starts t · <paramref name="stride"/> bytes later.</param>
    /// <param name="stride">Bytes from one token's activations to the next.</param>
    /// <param name="blocks">Super-blocks in the row.</param>
    /// <param name="results">Four floats: the dot with each token.</param>
    /// <param name="width">The widest vectors to use (<see cref="SimdWidth.V512"/>: <see cref="DotQ8_K4x512"/>).</param>
    public static unsafe void DotQ8_K4(byte* row, byte* activations, long stride, int blocks, float* results, SimdWidth width)
    {
        if (width >= SimdWidth.V512)
        {
            DotQ8_K4x512(row, activations, stride, blocks, results);
            return;
        }

        DotQ8_K4<Chunks256>(row, activations, stride, blocks, results);
    }

    /// <summary>
    /// The 8 scales and 8 mins of a super-block as 16 int16 (scales first), from the 12 packed bytes: the layout of
    /// <see cref="ScaleMin"/>, four bytes at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<short> UnpackScalesAndMins(ref byte packed)
    {
        // The four results at once from v = [u0, u1, u2, ·] (16 bytes read: the 12 packed ones and 4 of qs):
        // low 6 (or 4) bits of [u0, u2, u1, u2 >> 4], then bits 6-7 of u0 and u1 moved to bits 4-5 of lanes 1 and 3
        // ((u >> 6) & 3) << 4 per byte = (u >> 2) & 0x30. Replaced 25 scalar instructions and three inserts.
        var v = Vector128.LoadUnsafe(ref packed).AsUInt32();
        var low = Avx2.ShiftRightLogicalVariable(Sse2.Shuffle(v, 0b_10_01_10_00), Vector128.Create(0u, 0, 0, 4))
            & Vector128.Create(0x3F3F3F3Fu, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F);
        var high = (Sse2.Shuffle(v, 0b_01_01_00_00) >>> 2) & Vector128.Create(0u, 0x30303030, 0, 0x30303030);
        return Avx2.ConvertToVector256Int16((low | high).AsByte()).AsInt16();
    }

    /// <summary>The two fp16 values at <paramref name="block"/> widened: [h0, h1, 0, 0].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> HalvesPair(ref byte block) =>
        Vector128.Create(QuantSimd.ReadHalf(ref block), QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 2)), 0, 0);

    /// <inheritdoc cref="HalvesPair(ref byte)"/>
    private static unsafe Vector128<float> HalvesPair(byte* block) => HalvesPair(ref *block);

    /// <summary>
    /// <c>mins + dmin·d_a · Σ_s m_s · Σ a over sub-block s</c> (4 partial sums): the activations' 8 sums over the
    /// sub-blocks of 32 (<see cref="Q8_KActivations.PairSums"/>, added once per token) against the mins in the upper
    /// half of <paramref name="scalesAndMins"/>. Reading the sums instead of adding the 16 bsums in pairs here (a
    /// horizontal add per row, token and block) took the four-token kernel from 70 to 73 GFLOP/s on a core (kbench,
    /// 16 tokens, 5632 × 2048).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> AccumulateMins(Vector256<short> scalesAndMins, ref short pairSums8, float dminTimesDa, Vector128<float> mins)
    {
        var pairSums = Vector128.LoadUnsafe(ref pairSums8);
        var minTerms = Sse2.MultiplyAddAdjacent(scalesAndMins.GetUpper(), pairSums);
        return Simd.MulAdd(Vector128.ConvertToSingle(minTerms), Vector128.Create(dminTimesDa), mins);
    }

    /// <summary>Scale <paramref name="s"/> (0..7) of <paramref name="scales"/> (8 int16, in both lanes) in all 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<short> BroadcastScale(Vector256<byte> scales, int s) =>
        Avx2.Shuffle(scales, Vector256.Create((short)((2 * s) | (((2 * s) + 1) << 8))).AsByte()).AsInt16();

    /// <summary>A chunk's 32 packed bytes as its two sub-blocks' 4-bit values (low nibbles, then high nibbles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SplitChunk(ref byte q, out Vector256<byte> low, out Vector256<byte> high)
    {
        var packed = Vector256.LoadUnsafe(ref q);
        low = packed & Vector256.Create((byte)0x0F);
        high = (packed.AsUInt16() >> 4).AsByte() & Vector256.Create((byte)0x0F);
    }

    /// <summary>Σ sc·q·a of a split chunk with one token's 64 activations at <paramref name="a"/>, as 8 int32 partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ChunkSum(Vector256<byte> low, Vector256<byte> high, ref byte a, Vector256<short> scaleLow, Vector256<short> scaleHigh) =>
        QuantSimd.DotUInt8Scaled(low, Vector256.LoadUnsafe(ref a).AsSByte(), scaleLow)
        + QuantSimd.DotUInt8Scaled(high, Vector256.LoadUnsafe(ref a, 32).AsSByte(), scaleHigh);
}
