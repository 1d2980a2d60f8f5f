using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_q2_K</c>: a super-block of 256 elements in 84 bytes, as 16 sub-blocks of 16 elements with a 4-bit
/// scale and a 4-bit min each: <c>value = d * sc[s] * q − dmin * m[s]</c>, q an unsigned 2-bit value (0..3).
/// <code>
/// offset  0: scales  uint8[16]: sub-block s: sc[s] = scales[s] &amp; 15, m[s] = scales[s] >> 4
/// offset 16: qs      uint8[64]: 2 bits a value
/// offset 80: d       fp16
/// offset 82: dmin    fp16
/// Element 128n + 32j + l (half n = 0, 1; group j = 0..3; l = 0..31), in sub-block s = 8n + 2j + l / 16:
///   q = (qs[32n + l] >> 2j) &amp; 3
/// </code>
/// </summary>
/// <remarks>
/// The integer dot multiplies the unsigned values directly (one vpmaddubsw per group of 32, then one vpmaddwd with the
/// pair of sub-block scales) and takes the mins through the activations' block sums: Σ_s m_s·bsum_s, as llama.cpp's
/// vec_dot_q2_K_q8_K does.
/// </remarks>
internal static partial class BlockQ2_K
{
    /// <summary>Elements per super-block.</summary>
    public const int BlockSize = 256;

    /// <summary>Bytes per super-block.</summary>
    public const int BlockBytes = 84;

    /// <summary>Scalar reference.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BlockBytes, BlockBytes);
            float d = QuantSimd.ReadHalf(block, 80);
            float dmin = QuantSimd.ReadHalf(block, 82);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int i = 0; i < BlockSize; i++)
            {
                int sc = block[i / 16];
                float dl = d * (sc & 0x0F);
                float ml = dmin * (sc >> 4);
                y[i] = (dl * ValueAt(block, i)) - ml;
            }
        }
    }

    /// <summary>The unsigned 2-bit value (0..3) of element <paramref name="i"/> of a super-block.</summary>
    private static int ValueAt(ReadOnlySpan<byte> block, int i) =>
        (block[16 + (32 * (i / 128)) + (i % 32)] >> (2 * ((i % 128) / 32))) & 3;

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
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 80));
            float dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 82));
            for (int n = 0; n < 2; n++)
            {
                Unpack(Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 16 + (32 * n))), out var q0, out var q1, out var q2, out var q3);
                ref float yh = ref Unsafe.Add(ref y, (b * BlockSize) + (128 * n));
                ref byte sc = ref Unsafe.Add(ref block, 8 * n);
                Store(q0, d, dmin, ref sc, 0, ref yh);
                Store(q1, d, dmin, ref sc, 2, ref Unsafe.Add(ref yh, 32));
                Store(q2, d, dmin, ref sc, 4, ref Unsafe.Add(ref yh, 64));
                Store(q3, d, dmin, ref sc, 6, ref Unsafe.Add(ref yh, 96));
            }
        }
    }

    /// <summary>Stores 32 values whose halves of 16 are sub-blocks s and s + 1 (scale and min from <paramref name="sc"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<byte> q, float d, float dmin, ref byte sc, int s, ref float dst)
    {
        int sc0 = Unsafe.Add(ref sc, s);
        int sc1 = Unsafe.Add(ref sc, s + 1);
        QuantSimd.Store32Halves(q.AsSByte(), d * (sc0 & 0x0F), -(dmin * (sc0 >> 4)), d * (sc1 & 0x0F), -(dmin * (sc1 >> 4)), ref dst);
    }

    /// <summary>
    /// A half's four groups of 32 values (0..3): bits 2j of <paramref name="packed"/> for group j (16-bit shifts, the
    /// bits carried across bytes fall outside the mask).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack(Vector256<byte> packed, out Vector256<byte> q0, out Vector256<byte> q1, out Vector256<byte> q2, out Vector256<byte> q3)
    {
        var three = Vector256.Create((byte)3);
        q0 = packed & three;
        q1 = (packed.AsUInt16() >> 2).AsByte() & three;
        q2 = (packed.AsUInt16() >> 4).AsByte() & three;
        q3 = (packed.AsUInt16() >> 6).AsByte() & three;
    }

    /// <summary>A super-block's 256 values (0..3) in element order into <paramref name="u"/>, for <see cref="KQuantGemm"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void UnpackValues(byte* block, byte* u)
    {
        for (int n = 0; n < 2; n++)
        {
            Unpack(Vector256.Load(block + 16 + (32 * n)), out var q0, out var q1, out var q2, out var q3);
            byte* e = u + (128 * n);
            q0.Store(e);
            q1.Store(e + 32);
            q2.Store(e + 64);
            q3.Store(e + 96);
        }
    }

    /// <summary>Scalar reference dot product: Σ dequantized[i] · x[i].</summary>
    public static unsafe float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x) =>
        QuantSimd.DotReference(row, x, BlockSize, BlockBytes, &DequantizeReference);

    /// <summary>
    /// Dot product on Vector256 (or Vector128) when allowed, else the reference: per sub-block
    /// <c>d·sc·Σ q·x − dmin·m·Σ x</c>.
    /// </summary>
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
            float d = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 80));
            float dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 82));
            for (int n = 0; n < 2; n++)
            {
                Unpack(Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 16 + (32 * n))), out var q0, out var q1, out var q2, out var q3);
                ref float xh = ref Unsafe.Add(ref xr, (b * BlockSize) + (128 * n));
                ref byte sc = ref Unsafe.Add(ref block, 8 * n);
                acc = Accumulate(q0, d, dmin, ref sc, 0, ref xh, acc);
                acc = Accumulate(q1, d, dmin, ref sc, 2, ref Unsafe.Add(ref xh, 32), acc);
                acc = Accumulate(q2, d, dmin, ref sc, 4, ref Unsafe.Add(ref xh, 64), acc);
                acc = Accumulate(q3, d, dmin, ref sc, 6, ref Unsafe.Add(ref xh, 96), acc);
            }
        }

        return Vector256.Sum(acc);
    }

    /// <summary>acc + Σ (d·sc·q − dmin·m)·x over 32 values whose halves of 16 are sub-blocks s and s + 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(Vector256<byte> q, float d, float dmin, ref byte sc, int s, ref float x, Vector256<float> acc)
    {
        int sc0 = Unsafe.Add(ref sc, s);
        int sc1 = Unsafe.Add(ref sc, s + 1);
        QuantSimd.Dot32(q.AsSByte(), ref x, out var first, out var second);
        acc = Simd.MulAdd(first, Vector256.Create(d * (sc0 & 0x0F)), acc);
        acc = Simd.MulAdd(second, Vector256.Create(d * (sc1 & 0x0F)), acc);
        acc = Simd.MulAdd(Vector256.LoadUnsafe(ref x) + Vector256.LoadUnsafe(ref x, 8), Vector256.Create(-(dmin * (sc0 >> 4))), acc);
        return Simd.MulAdd(Vector256.LoadUnsafe(ref x, 16) + Vector256.LoadUnsafe(ref x, 24), Vector256.Create(-(dmin * (sc1 >> 4))), acc);
    }

    /// <summary>
    /// Scalar reference of the integer dot product with Q8_K activations (llama.cpp's vec_dot_q2_K_q8_K): per
    /// super-block <c>d_w·d_a·Σ_s sc_s·Σ q_w·q_a − dmin·d_a·Σ_s m_s·bsum_s</c>, the sums exact in int32.
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
            int mins = 0;
            for (int s = 0; s < 16; s++)
            {
                mins += (block[s] >> 4) * MemoryMarshal.Read<short>(a[(260 + (2 * s))..]);
            }

            for (int i = 0; i < BlockSize; i++)
            {
                sumi += (block[i / 16] & 0x0F) * ValueAt(block, i) * (sbyte)a[4 + i];
            }

            sum += (QuantSimd.ReadHalf(block, 80) * da * sumi) - (QuantSimd.ReadHalf(block, 82) * da * mins);
        }

        return sum;
    }

    /// <summary>
    /// The integer dot product with Q8_K activations on AVX2 (the same code at every width from
    /// <see cref="SimdWidth.V256"/>), else the reference.
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
        var mins = Vector256<float>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            Simd.PrefetchAhead(ref block, BlockBytes);
            ref byte a = ref Unsafe.Add(ref x, b * BlockQ8_K.BlockBytes);
            var packedScales = Vector128.LoadUnsafe(ref block);
            var scales = Avx2.ConvertToVector256Int16(packedScales & Vector128.Create((byte)0x0F));
            BlockQ6_K.HalfScales(scales, out var low, out var high);
            var sumi = HalfSum(Vector256.LoadUnsafe(ref block, 16), ref Unsafe.Add(ref a, 4), low)
                + HalfSum(Vector256.LoadUnsafe(ref block, 48), ref Unsafe.Add(ref a, 132), high);
            var m = Avx2.ConvertToVector256Int16(packedScales >>> 4);
            FloatStep(sumi, m, QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 80)), QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 82)), ref a, ref acc, ref mins);
        }

        return Vector256.Sum(acc) - Vector256.Sum(mins);
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
        var mins = stackalloc Vector256<float>[8];
        for (int t = 0; t < tokens; t++)
        {
            acc[t] = Vector256<float>.Zero;
            mins[t] = Vector256<float>.Zero;
        }

        for (int b = 0; b < blocks; b++)
        {
            byte* block = row + ((long)b * BlockBytes);
            var packedScales = Vector128.Load(block);
            var scales = Avx2.ConvertToVector256Int16(packedScales & Vector128.Create((byte)0x0F));
            var m = Avx2.ConvertToVector256Int16(packedScales >>> 4);
            BlockQ6_K.HalfScales(scales, out var low, out var high);
            Unpack(Vector256.Load(block + 16), out var q0, out var q1, out var q2, out var q3);
            Unpack(Vector256.Load(block + 48), out var q4, out var q5, out var q6, out var q7);
            float d = QuantSimd.ReadHalf(ref *(block + 80));
            float dmin = QuantSimd.ReadHalf(ref *(block + 82));
            for (int t = 0; t < tokens; t++)
            {
                byte* a = activations + (t * stride) + ((long)b * BlockQ8_K.BlockBytes);
                var sumi = BlockQ6_K.HalfSum(q0, q1, q2, q3, ref *(a + 4), low) + BlockQ6_K.HalfSum(q4, q5, q6, q7, ref *(a + 132), high);
                FloatStep(sumi, m, d, dmin, ref *a, ref acc[t], ref mins[t]);
            }
        }

        for (int t = 0; t < tokens; t++)
        {
            results[t] = Vector256.Sum(acc[t]) - Vector256.Sum(mins[t]);
        }
    }

    /// <summary>
    /// A token's float step for one super-block: the integer sums times d·d_a into <paramref name="acc"/>, the mins
    /// against the activations' block sums times dmin·d_a into <paramref name="mins"/>.
    /// </summary>
    /// <param name="sumi">The token's integer sums over the super-block (8 int32 lanes).</param>
    /// <param name="m">The super-block's 16 mins as int16.</param>
    /// <param name="d">The super-block's d.</param>
    /// <param name="dmin">The super-block's dmin.</param>
    /// <param name="a">The token's <see cref="BlockQ8_K"/> block.</param>
    /// <param name="acc">The token's accumulator of the scaled terms.</param>
    /// <param name="mins">The token's accumulator of the min terms.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FloatStep(Vector256<int> sumi, Vector256<short> m, float d, float dmin, ref byte a, ref Vector256<float> acc, ref Vector256<float> mins)
    {
        float da = Unsafe.ReadUnaligned<float>(ref a);
        var bsums = Vector256.LoadUnsafe(ref Unsafe.As<byte, short>(ref Unsafe.Add(ref a, 260)));
        mins = Simd.MulAdd(Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(m, bsums)), Vector256.Create(dmin * da), mins);
        acc = Simd.MulAdd(Vector256.ConvertToSingle(sumi), Vector256.Create(d * da), acc);
    }

    /// <summary>Σ sc·q·a of one half (128 elements) as 8 int32 partial sums; <paramref name="scales"/>: the half's 8 int16 scales in both lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> HalfSum(Vector256<byte> packed, ref byte a, Vector256<byte> scales)
    {
        Unpack(packed, out var q0, out var q1, out var q2, out var q3);
        return BlockQ6_K.HalfSum(q0, q1, q2, q3, ref a, scales);
    }

}
