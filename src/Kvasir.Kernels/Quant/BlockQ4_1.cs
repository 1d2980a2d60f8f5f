using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_q4_1</c>: 32 elements in 20 bytes, <c>value = q * d + m</c> with 4-bit q.
/// <code>
/// offset  0: d   fp16 scale
/// offset  2: m   fp16 offset (the block minimum)
/// offset  4: qs  uint8[16]: element j = qs[j] &amp; 0x0F, element j + 16 = qs[j] >> 4
/// </code>
/// Quantizing follows ggml's reference: <c>d = (max - min) / 15</c>, <c>q = min(15, trunc((x - min) / d + 0.5))</c>.
/// </summary>
internal static class BlockQ4_1
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 20;

    /// <summary>Scalar reference.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BlockBytes, BlockBytes);
            float d = QuantSimd.ReadHalf(block, 0);
            float m = QuantSimd.ReadHalf(block, 2);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int j = 0; j < 16; j++)
            {
                y[j] = ((block[4 + j] & 0x0F) * d) + m;
                y[j + 16] = ((block[4 + j] >> 4) * d) + m;
            }
        }
    }

    /// <summary>Dequantizes on Vector256 (or Vector128) when allowed (bit-exact with the reference), else the reference.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
    {
        if (QuantSimd.Use128(width))
        {
            QuantSimd.DequantizeAffine128<Block128>(src, dst);
            return;
        }

        if (width < SimdWidth.V256 || !Vector256.IsHardwareAccelerated)
        {
            DequantizeReference(src, dst);
            return;
        }

        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            QuantSimd.Store32(
                Unpack(ref block),
                QuantSimd.ReadHalf(ref block),
                QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 2)),
                ref Unsafe.Add(ref d, b * BlockSize));
        }
    }

    /// <summary>Scalar reference dot product: Σ dequantized[i] · x[i].</summary>
    public static unsafe float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x) =>
        QuantSimd.DotReference(row, x, BlockSize, BlockBytes, &DequantizeReference);

    /// <summary>Dot product on Vector256 (or Vector128) when allowed, else the reference: Σ_b d·(q·x) + m·Σx.</summary>
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width)
    {
        if (QuantSimd.Use128(width))
        {
            return QuantSimd.DotAffine128<Block128>(row, x);
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
            acc = Simd.MulAdd(QuantSimd.Dot32(Unpack(ref block), ref xb), Vector256.Create(QuantSimd.ReadHalf(ref block)), acc);
            acc = Simd.MulAdd(QuantSimd.Sum32(ref xb), Vector256.Create(QuantSimd.ReadHalf(ref Unsafe.Add(ref block, 2))), acc);
        }

        return Vector256.Sum(acc);
    }

    /// <summary>How the shared Vector128 affine-block loops (<see cref="QuantSimd.DequantizeAffine128{TBlock}"/>) read this format.</summary>
    private readonly struct Block128 : QuantSimd.IBlock128
    {
        public static int BlockBytes => BlockQ4_1.BlockBytes;

        public static void Unpack128(ref byte block, out Vector128<sbyte> low, out Vector128<sbyte> high) =>
            BlockQ4_1.Unpack128(ref block, out low, out high);
    }

    /// <summary>A block's 32 values q (0..15) as two Vector128s: elements 0–15 (low nibbles) and 16–31 (high nibbles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack128(ref byte block, out Vector128<sbyte> low, out Vector128<sbyte> high)
    {
        var bytes = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 4));
        low = (bytes & Vector128.Create((byte)0x0F)).AsSByte();
        high = (bytes >>> 4).AsSByte();
    }

    /// <summary>ggml's reference quantizer (<c>quantize_row_q4_1_ref</c>).</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BlockBytes, BlockBytes);
            float min = float.MaxValue;
            float max = float.MinValue;
            foreach (float v in x)
            {
                min = MathF.Min(min, v);
                max = MathF.Max(max, v);
            }

            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            QuantSimd.WriteHalf(block, 0, d);
            QuantSimd.WriteHalf(block, 2, min);
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(15, (int)(((x[j] - min) * id) + 0.5f));
                int q1 = Math.Min(15, (int)(((x[j + 16] - min) * id) + 0.5f));
                block[4 + j] = (byte)(q0 | (q1 << 4));
            }
        }
    }

    /// <summary>The block's 32 values q (0..15) in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Unpack(ref byte block) =>
        QuantSimd.SplitNibbles(Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 4))).AsSByte();
}
