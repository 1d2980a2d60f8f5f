using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_q8_K</c>, the activation format of the K-quant integer dot products: 256 elements in
/// 292 bytes, <c>value = q * d</c>.
/// <code>
/// offset   0: d      float32 scale (not fp16)
/// offset   4: qs     int8[256]
/// offset 260: bsums  int16[16]: bsums[k] = Σ qs[16k .. 16k+15]
/// </code>
/// Quantizing follows ggml's reference: <c>d = -m / 127</c> (m the signed element of largest magnitude),
/// <c>q = min(127, round_half_even(x / d))</c>.
/// </summary>
internal static class BlockQ8_K
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 256;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 292;

    /// <summary>Scalar reference.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BlockBytes, BlockBytes);
            float d = MemoryMarshal.Read<float>(block);
            for (int j = 0; j < BlockSize; j++)
            {
                dst[(b * BlockSize) + j] = d * (sbyte)block[4 + j];
            }
        }
    }

    /// <summary>Dequantizes on Vector256 when allowed (bit-exact with the reference), else the reference.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
    {
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
            float d = Unsafe.ReadUnaligned<float>(ref block);
            for (int k = 0; k < BlockSize / 32; k++)
            {
                var q = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 4 + (32 * k))).AsSByte();
                QuantSimd.Store32(q, d, ref Unsafe.Add(ref y, (b * BlockSize) + (32 * k)));
            }
        }
    }

    /// <summary>Scalar reference dot product: Σ dequantized[i] · x[i].</summary>
    public static float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        float sum = 0;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            var block = row.Slice(b * BlockBytes, BlockBytes);
            float d = MemoryMarshal.Read<float>(block);
            for (int j = 0; j < BlockSize; j++)
            {
                sum += d * (sbyte)block[4 + j] * x[(b * BlockSize) + j];
            }
        }

        return sum;
    }

    /// <summary>Dot product on Vector256 when allowed, else the reference.</summary>
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width)
    {
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
            var blockAcc = Vector256<float>.Zero;
            for (int k = 0; k < BlockSize / 32; k++)
            {
                var q = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 4 + (32 * k))).AsSByte();
                blockAcc += QuantSimd.Dot32(q, ref Unsafe.Add(ref xr, (b * BlockSize) + (32 * k)));
            }

            acc = Simd.MulAdd(blockAcc, Vector256.Create(Unsafe.ReadUnaligned<float>(ref block)), acc);
        }

        return Vector256.Sum(acc);
    }

    /// <summary>
    /// <see cref="Quantize(ReadOnlySpan{float}, Span{byte})"/> on Vector256 when allowed, bit-exact with it
    /// (the Int8 MatMul path quantizes every token with this).
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst, SimdWidth width)
    {
        if (width < SimdWidth.V256 || !Vector256.IsHardwareAccelerated)
        {
            Quantize(src, dst);
            return;
        }

        ref float s = ref MemoryMarshal.GetReference(src);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            ref float x = ref Unsafe.Add(ref s, b * BlockSize);
            ref byte block = ref Unsafe.Add(ref d, b * BlockBytes);
            var amaxV = Vector256<float>.Zero;
            for (int k = 0; k < BlockSize; k += 8)
            {
                amaxV = Vector256.Max(amaxV, Vector256.Abs(Vector256.LoadUnsafe(ref x, (nuint)k)));
            }

            float amax = Simd.HorizontalMax(amaxV);
            if (amax == 0)
            {
                MemoryMarshal.CreateSpan(ref block, BlockBytes).Clear();
                continue;
            }

            // The signed value of the first element of largest magnitude (as the scalar scan picks it).
            float max = 0;
            for (int k = 0; k < BlockSize; k += 8)
            {
                var v = Vector256.LoadUnsafe(ref x, (nuint)k);
                uint mask = Vector256.Equals(Vector256.Abs(v), Vector256.Create(amax)).ExtractMostSignificantBits();
                if (mask != 0)
                {
                    max = Unsafe.Add(ref x, k + System.Numerics.BitOperations.TrailingZeroCount(mask));
                    break;
                }
            }

            float iscale = -127.0f / max;
            var vscale = Vector256.Create(iscale);
            var limit = Vector256.Create(127);
            ref sbyte qs = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref block, 4));
            ref short bsums = ref Unsafe.As<byte, short>(ref Unsafe.Add(ref block, 260));
            for (int k = 0; k < BlockSize; k += 32)
            {
                var q0 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.LoadUnsafe(ref x, (nuint)k) * vscale)), limit);
                var q1 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.LoadUnsafe(ref x, (nuint)(k + 8)) * vscale)), limit);
                var q2 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.LoadUnsafe(ref x, (nuint)(k + 16)) * vscale)), limit);
                var q3 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.LoadUnsafe(ref x, (nuint)(k + 24)) * vscale)), limit);
                Unsafe.WriteUnaligned(ref Unsafe.As<short, byte>(ref Unsafe.Add(ref bsums, k / 16)), (short)Vector256.Sum(q0 + q1));
                Unsafe.WriteUnaligned(ref Unsafe.As<short, byte>(ref Unsafe.Add(ref bsums, (k / 16) + 1)), (short)Vector256.Sum(q2 + q3));
                Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).StoreUnsafe(ref qs, (nuint)k);
            }

            Unsafe.WriteUnaligned(ref block, 1.0f / iscale);
        }
    }

    /// <summary>ggml's reference quantizer (<c>quantize_row_q8_K_ref</c>), including the block sums.</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BlockBytes, BlockBytes);
            var qs = MemoryMarshal.Cast<byte, sbyte>(block.Slice(4, BlockSize));
            var bsums = MemoryMarshal.Cast<byte, short>(block.Slice(260, 32));
            float amax = 0;
            float max = 0;
            foreach (float v in x)
            {
                if (MathF.Abs(v) > amax)
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }

            if (amax == 0)
            {
                block.Clear();
                continue;
            }

            float iscale = -127.0f / max;
            for (int j = 0; j < BlockSize; j++)
            {
                qs[j] = (sbyte)Math.Min(127, (int)MathF.Round(iscale * x[j], MidpointRounding.ToEven));
            }

            for (int k = 0; k < 16; k++)
            {
                int sum = 0;
                for (int j = 0; j < 16; j++)
                {
                    sum += qs[(16 * k) + j];
                }

                bsums[k] = (short)sum;
            }

            MemoryMarshal.Write(block, 1.0f / iscale);
        }
    }
}
