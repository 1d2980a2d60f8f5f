using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_q6_K</c>: a super-block of 256 elements in 210 bytes, as 16 sub-blocks of 16 elements
/// with an int8 scale each: <c>value = d * scales[s] * (q - 32)</c>, 6-bit q.
/// <code>
/// offset   0: ql      uint8[128]: low 4 bits
/// offset 128: qh      uint8[64]:  high 2 bits
/// offset 192: scales  int8[16]:   sub-block s covers elements 16s .. 16s+15
/// offset 208: d       fp16
/// For half h (0, 1) covering elements 128h .. 128h+127, with L = ql + 64h, H = qh + 32h, l = 0..31:
///   element 128h + l      = (L[l]      &amp; 0x0F) | ((H[l] >> 0) &amp; 3) &lt;&lt; 4
///   element 128h + l + 32 = (L[l + 32] &amp; 0x0F) | ((H[l] >> 2) &amp; 3) &lt;&lt; 4
///   element 128h + l + 64 = (L[l]      >> 4)   | ((H[l] >> 4) &amp; 3) &lt;&lt; 4
///   element 128h + l + 96 = (L[l + 32] >> 4)   | ((H[l] >> 6) &amp; 3) &lt;&lt; 4
/// </code>
/// </summary>
internal static partial class BlockQ6_K
{
    /// <summary>Elements per super-block.</summary>
    public const int BlockSize = 256;

    /// <summary>Bytes per super-block.</summary>
    public const int BlockBytes = 210;

    /// <summary>Scalar reference.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BlockBytes, BlockBytes);
            float d = QuantSimd.ReadHalf(block, 208);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int h = 0; h < 2; h++)
            {
                var ql = block.Slice(64 * h, 64);
                var qh = block.Slice(128 + (32 * h), 32);
                var sc = block.Slice(192 + (8 * h), 8);
                for (int l = 0; l < 32; l++)
                {
                    int s = l / 16;
                    int q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[(128 * h) + l] = d * (sbyte)sc[s] * q1;
                    y[(128 * h) + l + 32] = d * (sbyte)sc[s + 2] * q2;
                    y[(128 * h) + l + 64] = d * (sbyte)sc[s + 4] * q3;
                    y[(128 * h) + l + 96] = d * (sbyte)sc[s + 6] * q4;
                }
            }
        }
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
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 208));
            for (int h = 0; h < 2; h++)
            {
                ref float yh = ref Unsafe.Add(ref y, (b * BlockSize) + (128 * h));
                ref sbyte sc = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref block, 192 + (8 * h)));
                Unpack(ref block, h, out var q1, out var q2, out var q3, out var q4);
                Store(q1, d, ref sc, 0, ref yh);
                Store(q2, d, ref sc, 2, ref Unsafe.Add(ref yh, 32));
                Store(q3, d, ref sc, 4, ref Unsafe.Add(ref yh, 64));
                Store(q4, d, ref sc, 6, ref Unsafe.Add(ref yh, 96));
            }
        }
    }

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
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 208));
            for (int h = 0; h < 2; h++)
            {
                ref float xh = ref Unsafe.Add(ref xr, (b * BlockSize) + (128 * h));
                ref sbyte sc = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref block, 192 + (8 * h)));
                Unpack(ref block, h, out var q1, out var q2, out var q3, out var q4);
                acc = Accumulate(q1, d, ref sc, 0, ref xh, acc);
                acc = Accumulate(q2, d, ref sc, 2, ref Unsafe.Add(ref xh, 32), acc);
                acc = Accumulate(q3, d, ref sc, 4, ref Unsafe.Add(ref xh, 64), acc);
                acc = Accumulate(q4, d, ref sc, 6, ref Unsafe.Add(ref xh, 96), acc);
            }
        }

        return Vector256.Sum(acc);
    }

    /// <summary>The four groups of 32 signed values (q - 32) of half <paramref name="h"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack(
        ref byte block, int h, out Vector256<sbyte> q1, out Vector256<sbyte> q2, out Vector256<sbyte> q3, out Vector256<sbyte> q4)
    {
        var low0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 64 * h));
        var low1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, (64 * h) + 32));
        var high = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 128 + (32 * h)));
        var nibble = Vector256.Create((byte)0x0F);
        var two = Vector256.Create((byte)3);
        var bias = Vector256.Create((byte)32);
        q1 = (((low0 & nibble) | ((high & two) << 4)) - bias).AsSByte();
        q2 = (((low1 & nibble) | (((high >>> 2) & two) << 4)) - bias).AsSByte();
        q3 = (((low0 >>> 4) | (((high >>> 4) & two) << 4)) - bias).AsSByte();
        q4 = (((low1 >>> 4) | ((high >>> 6) << 4)) - bias).AsSByte();
    }

    /// <summary>Stores 32 values whose two halves of 16 use scales sc[s] and sc[s + 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<sbyte> q, float d, ref sbyte sc, int s, ref float dst) =>
        QuantSimd.Store32Halves(q, d * Unsafe.Add(ref sc, s), d * Unsafe.Add(ref sc, s + 1), ref dst);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(Vector256<sbyte> q, float d, ref sbyte sc, int s, ref float x, Vector256<float> acc)
    {
        QuantSimd.Dot32(q, ref x, out var low, out var high);
        acc = Simd.MulAdd(low, Vector256.Create(d * Unsafe.Add(ref sc, s)), acc);
        return Simd.MulAdd(high, Vector256.Create(d * Unsafe.Add(ref sc, s + 1)), acc);
    }

    /// <summary>
    /// Scalar reference of the integer dot product with Q8_K activations (llama.cpp's vec_dot_q6_K_q8_K):
    /// per super-block <c>d_w·d_a·Σ_s sc_s·Σ (q_w − 32)·q_a</c>, the sums exact in int32.
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
            int sumi = 0;
            for (int i = 0; i < BlockSize; i++)
            {
                // Element i: half h, group k of 32 (ql nibble and qh bit pair), position l.
                int h = i / 128;
                int k = (i % 128) / 32;
                int l = i % 32;
                int ql = block[(64 * h) + l + (k % 2 == 1 ? 32 : 0)];
                int nibble = k < 2 ? ql & 0x0F : ql >> 4;
                int high = (block[128 + (32 * h) + l] >> (2 * k)) & 3;
                int q = (nibble | (high << 4)) - 32;
                sumi += (sbyte)block[192 + (i / 16)] * q * (sbyte)a[4 + i];
            }

            sum += QuantSimd.ReadHalf(block, 208) * da * sumi;
        }

        return sum;
    }

    /// <summary>
    /// The integer dot product with Q8_K activations on AVX2 (512-bit where <paramref name="width"/> allows:
    /// <see cref="DotQ8_K512"/>, bit-identical), else the reference. The 6-bit values are
    /// multiplied unsigned (0..63) and the offset of 32 is taken back through the activations' block
    /// sums: Σ sc·(q − 32)·a = Σ sc·q·a − 32·Σ_s sc_s·bsum_s.
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

        ref byte r = ref MemoryMarshal.GetReference(row);
        ref byte x = ref MemoryMarshal.GetReference(activations);
        var acc = Vector256<float>.Zero;
        var offsets = Vector256<float>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            Simd.PrefetchAhead(ref block, BlockBytes);
            ref byte a = ref Unsafe.Add(ref x, b * BlockQ8_K.BlockBytes);
            var scales = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 192)).AsSByte()); // sc[0..15]

            // Each half's 8 scales in both 128-bit lanes, for the in-lane shuffles that broadcast them.
            HalfScales(scales, out var low, out var high);
            var sumi = HalfAt(ref block, ref Unsafe.Add(ref block, 128), ref Unsafe.Add(ref a, 4), low);
            sumi += HalfAt(ref Unsafe.Add(ref block, 64), ref Unsafe.Add(ref block, 160), ref Unsafe.Add(ref a, 132), high);
            FloatStep(sumi, QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 208)), scales, ref x, b, ref acc, ref offsets);
        }

        return Vector256.Sum(acc) - (32 * Vector256.Sum(offsets));
    }

    /// <summary>
    /// <see cref="DotQ8_K"/> of one row with four tokens at once (AVX2 only; 512-bit where <paramref name="width"/>
    /// allows): the row's 6-bit values and scales are unpacked once for all four, and each token's arithmetic is the one
    /// it gets alone, so <c>results[t]</c> is bit-identical to <see cref="DotQ8_K"/> of token t.
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

        var acc = stackalloc Vector256<float>[4];
        var offsets = stackalloc Vector256<float>[4];
        for (int t = 0; t < 4; t++)
        {
            acc[t] = Vector256<float>.Zero;
            offsets[t] = Vector256<float>.Zero;
        }

        for (int b = 0; b < blocks; b++)
        {
            byte* block = row + ((long)b * BlockBytes);
            var scales = Avx2.ConvertToVector256Int16(Vector128.Load((sbyte*)(block + 192)));
            HalfScales(scales, out var low, out var high);
            Unpack(ref *block, ref *(block + 128), out var q0, out var q1, out var q2, out var q3);
            Unpack(ref *(block + 64), ref *(block + 160), out var q4, out var q5, out var q6, out var q7);
            float dw = QuantSimd.ReadHalf(ref *(block + 208));
            for (int t = 0; t < 4; t++)
            {
                byte* x = activations + (t * stride);
                byte* a = x + ((long)b * BlockQ8_K.BlockBytes);
                var sumi = HalfSum(q0, q1, q2, q3, ref *(a + 4), low) + HalfSum(q4, q5, q6, q7, ref *(a + 132), high);
                FloatStep(sumi, dw, scales, ref *x, b, ref acc[t], ref offsets[t]);
            }
        }

        for (int t = 0; t < 4; t++)
        {
            results[t] = Vector256.Sum(acc[t]) - (32 * Vector256.Sum(offsets[t]));
        }
    }

    /// <summary>A half's four vectors of 32 unsigned 6-bit values (0..63), as <see cref="HalfAt"/> builds them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Unpack(
        ref byte ql, ref byte qh, out Vector256<byte> q0, out Vector256<byte> q1, out Vector256<byte> q2, out Vector256<byte> q3)
    {
        var nibble = Vector256.Create((byte)0x0F);
        var bits = Vector256.Create((byte)0x30);
        var low0 = Vector256.LoadUnsafe(ref ql);
        var low1 = Vector256.LoadUnsafe(ref ql, 32);
        var high = Vector256.LoadUnsafe(ref qh);

        // (high >> 2k & 3) << 4 for k = 0..3 as 16-bit shifts and one mask: the bits a 16-bit shift carries across
        // the byte boundary never land on bits 4-5.
        q0 = (low0 & nibble) | ((high.AsUInt16() << 4).AsByte() & bits);
        q1 = (low1 & nibble) | ((high.AsUInt16() << 2).AsByte() & bits);
        q2 = ((low0.AsUInt16() >> 4).AsByte() & nibble) | (high & bits);
        q3 = ((low1.AsUInt16() >> 4).AsByte() & nibble) | ((high.AsUInt16() >> 2).AsByte() & bits);
    }

    /// <summary>
    /// Σ sc·q·a of one half (128 elements) from its four groups of 32 unsigned values q0..q3, as 8 int32 partial sums:
    /// the K-quants with 16 sub-blocks (Q2_K, Q3_K, Q6_K) all sum a half this way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> HalfSum(
        Vector256<byte> q0, Vector256<byte> q1, Vector256<byte> q2, Vector256<byte> q3, ref byte a, Vector256<byte> scales) =>
        QuantSimd.DotUInt8Scaled(q0, Vector256.LoadUnsafe(ref a).AsSByte(), PairScales(scales, 0))
        + QuantSimd.DotUInt8Scaled(q1, Vector256.LoadUnsafe(ref a, 32).AsSByte(), PairScales(scales, 2))
        + QuantSimd.DotUInt8Scaled(q2, Vector256.LoadUnsafe(ref a, 64).AsSByte(), PairScales(scales, 4))
        + QuantSimd.DotUInt8Scaled(q3, Vector256.LoadUnsafe(ref a, 96).AsSByte(), PairScales(scales, 6));

    /// <summary>
    /// One half (128 elements) of the AVX2 dot: Σ sc·q·a with q unsigned (0..63), as 8 int32 partial sums.
    /// <paramref name="ql"/>: the half's 64 low-nibble bytes; <paramref name="qh"/>: its 32 high-bit bytes;
    /// <paramref name="a"/>: its 128 activations; <paramref name="scales"/>: its 8 int16 scales in both lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> HalfAt(ref byte ql, ref byte qh, ref byte a, Vector256<byte> scales)
    {
        Unpack(ref ql, ref qh, out var q0, out var q1, out var q2, out var q3);
        return HalfSum(q0, q1, q2, q3, ref a, scales);
    }

    /// <summary>A super-block's 16 int16 scales as each half's 8 in both 128-bit lanes, for <see cref="PairScales"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void HalfScales(Vector256<short> scales, out Vector256<byte> low, out Vector256<byte> high)
    {
        low = Vector256.Create(scales.GetLower(), scales.GetLower()).AsByte();
        high = Vector256.Create(scales.GetUpper(), scales.GetUpper()).AsByte();
    }

    /// <summary>int16 scales for 32 elements: scale s (of the half's 8) in the low lane, s + 1 in the high lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<short> PairScales(Vector256<byte> scales, int s) =>
        Avx2.Shuffle(scales, Vector256.Create(
            Vector128.Create((short)((2 * s) | (((2 * s) + 1) << 8))),
            Vector128.Create((short)((2 * (s + 1)) | (((2 * (s + 1)) + 1) << 8)))).AsByte()).AsInt16();
}
