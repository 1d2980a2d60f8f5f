using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_q5_K</c>: a super-block of 256 elements in 176 bytes, as 8 sub-blocks of 32 with a
/// 6-bit scale and min each (packed as in <see cref="BlockQ4_K"/>): <c>value = d * sc[s] * q - dmin * m[s]</c>, 5-bit q.
/// <code>
/// offset  0: d       fp16
/// offset  2: dmin    fp16
/// offset  4: scales  uint8[12] (same packing as q4_K)
/// offset 16: qh      uint8[32]: bit k of qh[l] is bit 4 of element 32k + l
/// offset 48: qs      uint8[128], chunk c (32 bytes) covers elements 64c .. 64c+63:
///            element 64c + l      = (qs[32c + l] &amp; 0x0F) | ((qh[l] >> 2c)     &amp; 1) &lt;&lt; 4
///            element 64c + 32 + l = (qs[32c + l] >> 4)   | ((qh[l] >> 2c + 1) &amp; 1) &lt;&lt; 4
/// </code>
/// </summary>
internal static partial class BlockQ5_K
{
    /// <summary>Elements per super-block.</summary>
    public const int BlockSize = 256;

    /// <summary>Bytes per super-block.</summary>
    public const int BlockBytes = 176;

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
                BlockQ4_K.ScaleMin(ref scales, 2 * c, out int sc0, out int m0);
                BlockQ4_K.ScaleMin(ref scales, (2 * c) + 1, out int sc1, out int m1);
                float d0 = d * sc0;
                float min0 = dmin * m0;
                float d1 = d * sc1;
                float min1 = dmin * m1;
                for (int l = 0; l < 32; l++)
                {
                    int q = block[48 + (32 * c) + l];
                    int h = block[16 + l];
                    int q0 = (q & 0x0F) | (((h >> (2 * c)) & 1) << 4);
                    int q1 = (q >> 4) | (((h >> ((2 * c) + 1)) & 1) << 4);
                    y[(64 * c) + l] = (d0 * q0) - min0;
                    y[(64 * c) + 32 + l] = (d1 * q1) - min1;
                }
            }
        }
    }

    /// <summary>Dequantizes on Vector256 (or Vector128) when allowed (bit-exact with the reference), else the reference.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
    {
        if (QuantSimd.Use128(width))
        {
            BlockQ4_K.DequantizeK128<Chunks128>(src, dst);
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
            Unpack(ref block, out float d, out float dmin, out var qh);
            ref byte scales = ref Unsafe.Add(ref block, 4);
            for (int c = 0; c < 4; c++)
            {
                BlockQ4_K.ScaleMin(ref scales, 2 * c, out int sc0, out int m0);
                BlockQ4_K.ScaleMin(ref scales, (2 * c) + 1, out int sc1, out int m1);
                Chunk(ref block, c, ref qh, out var low, out var high);
                QuantSimd.Store32(low, d * sc0, -(dmin * m0), ref Unsafe.Add(ref yb, 64 * c));
                QuantSimd.Store32(high, d * sc1, -(dmin * m1), ref Unsafe.Add(ref yb, (64 * c) + 32));
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
            return BlockQ4_K.DotK128<Chunks128>(row, x);
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
            Unpack(ref block, out float d, out float dmin, out var qh);
            ref byte scales = ref Unsafe.Add(ref block, 4);
            for (int c = 0; c < 4; c++)
            {
                BlockQ4_K.ScaleMin(ref scales, 2 * c, out int sc0, out int m0);
                BlockQ4_K.ScaleMin(ref scales, (2 * c) + 1, out int sc1, out int m1);
                Chunk(ref block, c, ref qh, out var low, out var high);
                ref float x0 = ref Unsafe.Add(ref xb, 64 * c);
                ref float x1 = ref Unsafe.Add(ref xb, (64 * c) + 32);
                acc = Simd.MulAdd(QuantSimd.Dot32(low, ref x0), Vector256.Create(d * sc0), acc);
                acc = Simd.MulAdd(QuantSimd.Sum32(ref x0), Vector256.Create(-(dmin * m0)), acc);
                acc = Simd.MulAdd(QuantSimd.Dot32(high, ref x1), Vector256.Create(d * sc1), acc);
                acc = Simd.MulAdd(QuantSimd.Sum32(ref x1), Vector256.Create(-(dmin * m1)), acc);
            }
        }

        return Vector256.Sum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack(ref byte block, out float d, out float dmin, out Vector256<byte> qh)
    {
        d = QuantSimd.ReadHalf(ref block);
        dmin = QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 2));
        qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 16));
    }

    /// <summary>
    /// The 64 values of chunk <paramref name="c"/>; <paramref name="qh"/> is consumed two bits per chunk
    /// (it is shifted right by 2 for the next chunk).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chunk(ref byte block, int c, ref Vector256<byte> qh, out Vector256<sbyte> low, out Vector256<sbyte> high)
    {
        var packed = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 48 + (32 * c)));
        var one = Vector256.Create((byte)1);
        low = ((packed & Vector256.Create((byte)0x0F)) | ((qh & one) << 4)).AsSByte();
        high = ((packed >>> 4) | (((qh >>> 1) & one) << 4)).AsSByte();
        qh >>>= 2;
    }

    /// <summary>
    /// Scalar reference of the integer dot product with Q8_K activations (llama.cpp's vec_dot_q5_K_q8_K):
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
                BlockQ4_K.ScaleMin(ref scales, s, out int sc, out int m);
                int c = s / 2;
                int isum = 0;
                int asum = 0;
                for (int l = 0; l < 32; l++)
                {
                    int i = (32 * s) + l;
                    int packed = block[48 + (32 * c) + l];
                    int q = (s % 2 == 0 ? packed & 0x0F : packed >> 4) | (((block[16 + l] >> s) & 1) << 4);
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
    /// <see cref="DotQ8_K512"/>, bit-identical), else the reference.
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
                return BlockQ4_K.DotQ8_K256<Chunks256>(r, x, blocks);
            }
        }
    }
}
