using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_q8_0</c>: 32 elements in 34 bytes, <c>value = q * d</c>.
/// <code>
/// offset  0: d   fp16 scale
/// offset  2: qs  int8[32], element j = qs[j] * d
/// </code>
/// Quantizing follows ggml's reference: <c>d = max|x| / 127</c>, <c>q = round(x / d)</c> (half away from zero).
/// </summary>
internal static class BlockQ8_0
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 34;

    /// <summary>Scalar reference: <c>dst.Length</c> elements from <c>dst.Length / 32</c> blocks.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BlockBytes, BlockBytes);
            float d = QuantSimd.ReadHalf(block, 0);
            for (int j = 0; j < BlockSize; j++)
            {
                dst[(b * BlockSize) + j] = (sbyte)block[2 + j] * d;
            }
        }
    }

    /// <summary>Dequantizes on Vector256 (or Vector128) when allowed (bit-exact with the reference), else the reference.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
    {
        if (QuantSimd.Use128(width))
        {
            QuantSimd.DequantizeScaled128<Block128>(src, dst);
            return;
        }

        if (width < SimdWidth.V256 || !Vector256.IsHardwareAccelerated)
        {
            DequantizeReference(src, dst);
            return;
        }

        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        int blocks = dst.Length / BlockSize;
        int b = 0;
        if (Avx2.IsSupported)
        {
            b = Dequantize4Blocks(ref s, ref d, blocks);
        }

        for (; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            var q = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 2)).AsSByte();
            QuantSimd.Store32(q, QuantSimd.ReadHalf(ref block), ref Unsafe.Add(ref d, b * BlockSize));
        }
    }

    /// <summary>
    /// The AVX2 body of <see cref="Dequantize(ReadOnlySpan{byte}, Span{float}, SimdWidth)"/>, four blocks at a time:
    /// the four scales widened together, each group of 8 values sign-extended straight from memory (<c>vpmovsxbd</c>),
    /// converted and multiplied by its block's scale (the reference's <c>q · d</c>, bit for bit). The GEMM dequantizes
    /// every row once per block of tokens, so at 16 tokens this loop was ~30 % of a Q8_0 product; the lane-crossing
    /// widenings and the scalar half conversion of <see cref="QuantSimd.Store32(Vector256{sbyte}, float, ref float)"/>
    /// took 4.6 ns per block, this loop 3.1 (dq harness: one core, rows in cache, best of six alternating runs). Returns
    /// the blocks done.
    /// </summary>
    private static unsafe int Dequantize4Blocks(ref byte src, ref float dst, int blocks)
    {
        float* scales = stackalloc float[4];
        int b = 0;
        fixed (byte* s = &src)
        fixed (float* d = &dst)
        {
            for (; b + 4 <= blocks; b += 4)
            {
                byte* block = s + ((long)b * BlockBytes);
                QuantSimd.ReadHalves4(ref *block, BlockBytes).Store(scales);
                for (int i = 0; i < 4; i++)
                {
                    sbyte* q = (sbyte*)(block + (i * BlockBytes) + 2);
                    float* y = d + ((long)(b + i) * BlockSize);
                    var scale = Vector256.Create(scales[i]);
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q)) * scale).Store(y);
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q + 8)) * scale).Store(y + 8);
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q + 16)) * scale).Store(y + 16);
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q + 24)) * scale).Store(y + 24);
                }
            }
        }

        return b;
    }

    /// <summary>Scalar reference dot product: Σ dequantized[i] · x[i].</summary>
    public static float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        float sum = 0;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            var block = row.Slice(b * BlockBytes, BlockBytes);
            float d = QuantSimd.ReadHalf(block, 0);
            for (int j = 0; j < BlockSize; j++)
            {
                sum += (sbyte)block[2 + j] * d * x[(b * BlockSize) + j];
            }
        }

        return sum;
    }

    /// <summary>Dot product on Vector256 (or Vector128) when allowed, else the reference.</summary>
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width)
    {
        if (QuantSimd.Use128(width))
        {
            return QuantSimd.DotScaled128<Block128>(row, x);
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
            var q = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 2)).AsSByte();
            var partial = QuantSimd.Dot32(q, ref Unsafe.Add(ref xr, b * BlockSize));
            acc = Simd.MulAdd(partial, Vector256.Create(QuantSimd.ReadHalf(ref block)), acc);
        }

        return Vector256.Sum(acc);
    }

    /// <summary>How the shared Vector128 loops (<see cref="QuantSimd.DequantizeScaled128{TBlock}"/>, <see cref="QuantSimd.DotScaled128{TBlock}"/>) read this format.</summary>
    private readonly struct Block128 : QuantSimd.IBlock128
    {
        public static int BlockBytes => BlockQ8_0.BlockBytes;

        public static void Unpack128(ref byte block, out Vector128<sbyte> low, out Vector128<sbyte> high) =>
            BlockQ8_0.Unpack128(ref block, out low, out high);
    }

    /// <summary>A block's 32 values q as two Vector128s: elements 0–15 and 16–31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack128(ref byte block, out Vector128<sbyte> low, out Vector128<sbyte> high)
    {
        low = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 2)).AsSByte();
        high = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 18)).AsSByte();
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
            var x0 = Vector256.LoadUnsafe(ref x);
            var x1 = Vector256.LoadUnsafe(ref x, 8);
            var x2 = Vector256.LoadUnsafe(ref x, 16);
            var x3 = Vector256.LoadUnsafe(ref x, 24);
            float amax = Simd.HorizontalMax(Vector256.Max(
                Vector256.Max(Vector256.Abs(x0), Vector256.Abs(x1)), Vector256.Max(Vector256.Abs(x2), Vector256.Abs(x3))));
            float scale = amax / 127;
            var id = Vector256.Create(scale != 0 ? 1.0f / scale : 0.0f);
            ref byte block = ref Unsafe.Add(ref d, b * BlockBytes);
            Unsafe.WriteUnaligned(ref block, (ushort)RowF16.FromSingle(Vector128.CreateScalarUnsafe(scale)).ToScalar());
            var low = Vector256.Narrow(RoundHalfAway(x0 * id), RoundHalfAway(x1 * id));
            var high = Vector256.Narrow(RoundHalfAway(x2 * id), RoundHalfAway(x3 * id));
            Vector256.Narrow(low, high).StoreUnsafe(ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref block, 2)));
        }
    }

    /// <summary>ggml's reference quantizer (<c>quantize_row_q8_0_ref</c>).</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BlockBytes, BlockBytes);
            float amax = 0;
            foreach (float v in x)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            QuantSimd.WriteHalf(block, 0, d);
            for (int j = 0; j < BlockSize; j++)
            {
                block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
            }
        }
    }

    /// <summary>
    /// Scalar reference of the integer dot product with activations quantized to Q8_0 (llama.cpp's
    /// vec_dot_q8_0_q8_0): per block <c>d_w · d_a · Σ q_w·q_a</c>, the inner sum exact in int32.
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
        public static int BlockBytes => BlockQ8_0.BlockBytes;

        public static int OffsetShift => -1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Unpack(ref byte block) => Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 2));
    }

    /// <summary>C's <c>roundf</c> (ties away from zero) of each lane, as int32; exact for every float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> RoundHalfAway(Vector256<float> v)
    {
        var truncated = Vector256.Truncate(v);
        var one = (Vector256.Create(1.0f).AsUInt32() | (v.AsUInt32() & Vector256.Create(0x80000000u))).AsSingle();
        var step = Vector256.GreaterThanOrEqual(Vector256.Abs(v - truncated), Vector256.Create(0.5f));
        return Vector256.ConvertToInt32(truncated + (one & step));
    }

    /// <summary>The block's 32 signed values (reference).</summary>
    private static void UnpackReference(ReadOnlySpan<byte> block, Span<sbyte> q)
    {
        for (int j = 0; j < BlockSize; j++)
        {
            q[j] = (sbyte)block[2 + j];
        }
    }
}
