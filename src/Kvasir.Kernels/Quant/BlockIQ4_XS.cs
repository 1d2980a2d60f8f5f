using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml <c>block_iq4_xs</c>: a super-block of 256 elements in 136 bytes, as 8 sub-blocks of 32 with a 6-bit scale
/// each: <c>value = d * (ls[s] - 32) * Values[q]</c>, q a 4-bit index into IQ4_NL's grid (<see cref="BlockIQ4_NL.Values"/>).
/// <code>
/// offset 0: d         fp16
/// offset 2: scales_h  uint16:    bits 2s, 2s+1 are the top two bits of ls[s]
/// offset 4: scales_l  uint8[4]:  the low four bits of ls[s] are bits 4s .. 4s+3 of these 4 bytes read as a uint32
/// offset 8: qs        uint8[128]: sub-block s: element 32s + j = Values[qs[16s + j] &amp; 0x0F], 32s + 16 + j = Values[qs[16s + j] >> 4]
/// </code>
/// </summary>
internal static partial class BlockIQ4_XS
{
    /// <summary>Elements per super-block.</summary>
    public const int BlockSize = 256;

    /// <summary>Bytes per super-block.</summary>
    public const int BlockBytes = 136;

    /// <summary>The signed scale ls − 32 (−32..31) of sub-block <paramref name="s"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Scale(ref byte block, int s)
    {
        uint low = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 4));
        uint high = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, 2));
        return (int)(((low >> (4 * s)) & 0x0F) | (((high >> (2 * s)) & 3) << 4)) - 32;
    }

    /// <summary>Scalar reference.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BlockBytes, BlockBytes);
            float d = QuantSimd.ReadHalf(block, 0);
            var y = dst.Slice(b * BlockSize, BlockSize);
            for (int s = 0; s < 8; s++)
            {
                int high = ((block[2] | (block[3] << 8)) >> (2 * s)) & 3;
                int low = (block[4 + (s / 2)] >> (4 * (s % 2))) & 0x0F;
                float dl = d * ((low | (high << 4)) - 32);
                for (int j = 0; j < 16; j++)
                {
                    y[(32 * s) + j] = dl * BlockIQ4_NL.Values[block[8 + (16 * s) + j] & 0x0F];
                    y[(32 * s) + 16 + j] = dl * BlockIQ4_NL.Values[block[8 + (16 * s) + j] >> 4];
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

        if (width < SimdWidth.V256 || !Avx2.IsSupported)
        {
            DequantizeReference(src, dst);
            return;
        }

        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float y = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * BlockBytes);
            float d = QuantSimd.ReadHalf(ref block);
            for (int sub = 0; sub < 8; sub++)
            {
                QuantSimd.Store32(Levels(ref block, sub), d * Scale(ref block, sub), ref Unsafe.Add(ref y, (b * BlockSize) + (32 * sub)));
            }
        }
    }

    /// <summary>The 32 signed levels of sub-block <paramref name="sub"/> in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Levels(ref byte block, int sub) =>
        BlockIQ4_NL.Levels(QuantSimd.SplitNibbles(Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 8 + (16 * sub)))));

    /// <summary>
    /// <paramref name="superBlocks"/> super-blocks of a row as <see cref="Q8_0Gemm"/>'s unpacked row: per sub-block of 32
    /// its levels + 128 as bytes, then the sub-blocks' scales d · (ls − 32) as floats. With <paramref name="split"/> the
    /// 512-bit kernel's form of 8-bit values (<see cref="Q8_0Gemm.UnpackRowWide{TWeights}"/>): per sub-block lo[32], hi[32].
    /// </summary>
    internal static unsafe void UnpackGemmRow(byte* row, int superBlocks, byte* dst, bool split)
    {
        int valueBytes = split ? 64 : 32;
        float* d = (float*)(dst + ((long)superBlocks * 8 * valueBytes));
        var flip = Vector256.Create((byte)0x80);
        for (int sb = 0; sb < superBlocks; sb++)
        {
            ref byte block = ref *(row + ((long)sb * BlockBytes));
            float scale = QuantSimd.ReadHalf(ref block);
            for (int s = 0; s < 8; s++)
            {
                var u = Levels(ref block, s).AsByte() ^ flip;
                int b = (sb * 8) + s;
                byte* e = dst + ((long)b * valueBytes);
                if (split)
                {
                    Q8_0Gemm.StoreSplit(u, e);
                }
                else
                {
                    u.Store(e);
                }

                d[b] = scale * Scale(ref block, s);
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

        if (width < SimdWidth.V256 || !Avx2.IsSupported)
        {
            return DotReference(row, x);
        }

        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            float d = QuantSimd.ReadHalf(ref block);
            for (int sub = 0; sub < 8; sub++)
            {
                var partial = QuantSimd.Dot32(Levels(ref block, sub), ref Unsafe.Add(ref xr, (b * BlockSize) + (32 * sub)));
                acc = Simd.MulAdd(partial, Vector256.Create(d * Scale(ref block, sub)), acc);
            }
        }

        return Vector256.Sum(acc);
    }

    /// <summary>
    /// Scalar reference of the integer dot product with Q8_K activations (llama.cpp's vec_dot_iq4_xs_q8_K): per
    /// super-block <c>d_w·d_a·Σ_s (ls_s − 32)·Σ level·q_a</c>, the sums exact in int32.
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
            int sumi = 0;
            for (int s = 0; s < 8; s++)
            {
                int high = ((block[2] | (block[3] << 8)) >> (2 * s)) & 3;
                int low = (block[4 + (s / 2)] >> (4 * (s % 2))) & 0x0F;
                int sub = 0;
                for (int j = 0; j < 16; j++)
                {
                    sub += BlockIQ4_NL.Values[block[8 + (16 * s) + j] & 0x0F] * (sbyte)a[4 + (32 * s) + j];
                    sub += BlockIQ4_NL.Values[block[8 + (16 * s) + j] >> 4] * (sbyte)a[4 + (32 * s) + 16 + j];
                }

                sumi += ((low | (high << 4)) - 32) * sub;
            }

            sum += QuantSimd.ReadHalf(block, 0) * MemoryMarshal.Read<float>(a) * sumi;
        }

        return sum;
    }

    /// <summary>
    /// The integer dot product with Q8_K activations on AVX2 (the same code at every width from
    /// <see cref="SimdWidth.V256"/>), else the reference. Two sub-blocks a step: one 32-byte load of their indices gives
    /// the low nibbles of both in one vector (elements 0–15 of each, one per 128-bit lane) and the high nibbles in
    /// another (elements 16–31), the levels come from a byte shuffle, the activations are paired to match by two lane
    /// permutes, and each product (the sign moved onto the activations, as <see cref="QuantSimd.DotInt8"/>) meets the
    /// two sub-blocks' scales, one per lane, in one vpmaddwd.
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
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            Simd.PrefetchAhead(ref block, BlockBytes);
            ref byte a = ref Unsafe.Add(ref x, b * BlockQ8_K.BlockBytes);
            var scales = LaneScales(ref block);
            var sumi = PairSum(ref block, ref a, scales, 0) + PairSum(ref block, ref a, scales, 1)
                + PairSum(ref block, ref a, scales, 2) + PairSum(ref block, ref a, scales, 3);
            acc = Simd.MulAdd(Vector256.ConvertToSingle(sumi), Vector256.Create(QuantSimd.ReadHalf(ref block) * Unsafe.ReadUnaligned<float>(ref a)), acc);
        }

        return Vector256.Sum(acc);
    }

    /// <summary>
    /// <see cref="DotQ8_K"/> of one row with four tokens at once (AVX2 only; the same body at every width): each pair of
    /// sub-blocks' levels, their magnitudes and scales are made once for the four tokens, and each token's integer sums
    /// and float step are the ones it gets alone, so <c>results[t]</c> is bit-identical to <see cref="DotQ8_K"/> of token t.
    /// </summary>
    /// <param name="row">The weight row's super-blocks.</param>
    /// <param name="activations">Token 0's <see cref="Q8_KActivations"/> row; token t's starts t · <paramref name="stride"/> bytes later.</param>
    /// <param name="stride">Bytes from one token's activations to the next.</param>
    /// <param name="blocks">Super-blocks in the row.</param>
    /// <param name="results">Four floats: the dot with each token.</param>
    public static unsafe void DotQ8_K4(byte* row, byte* activations, long stride, int blocks, float* results)
    {
        var acc = stackalloc Vector256<float>[4];
        var sumi = stackalloc Vector256<int>[4];
        for (int t = 0; t < 4; t++)
        {
            acc[t] = Vector256<float>.Zero;
        }

        var nibble = Vector256.Create((byte)0x0F);
        for (int b = 0; b < blocks; b++)
        {
            byte* block = row + ((long)b * BlockBytes);
            long at = (long)b * BlockQ8_K.BlockBytes;
            var scales = LaneScales(ref *block);
            for (int t = 0; t < 4; t++)
            {
                sumi[t] = Vector256<int>.Zero;
            }

            for (int k = 0; k < 4; k++)
            {
                var packed = Vector256.Load(block + 8 + (32 * k));
                var first = BlockIQ4_NL.Levels(packed & nibble);
                var second = BlockIQ4_NL.Levels((packed.AsUInt16() >> 4).AsByte() & nibble);
                var firstMagnitude = Avx2.Sign(first, first).AsByte();
                var secondMagnitude = Avx2.Sign(second, second).AsByte();
                var pairScales = BlockQ6_K.PairScales(scales, 2 * k);
                for (int t = 0; t < 4; t++)
                {
                    byte* a = activations + (t * stride) + at + 4 + (64 * k);
                    var a0 = Vector256.Load(a);
                    var a1 = Vector256.Load(a + 32);
                    var low = Avx2.MultiplyAddAdjacent(firstMagnitude, Avx2.Sign(Avx2.Permute2x128(a0, a1, 0x20).AsSByte(), first));
                    var high = Avx2.MultiplyAddAdjacent(secondMagnitude, Avx2.Sign(Avx2.Permute2x128(a0, a1, 0x31).AsSByte(), second));
                    sumi[t] += Avx2.MultiplyAddAdjacent(low, pairScales) + Avx2.MultiplyAddAdjacent(high, pairScales);
                }
            }

            float d = QuantSimd.ReadHalf(ref *block);
            for (int t = 0; t < 4; t++)
            {
                float da = *(float*)(activations + (t * stride) + at);
                acc[t] = Simd.MulAdd(Vector256.ConvertToSingle(sumi[t]), Vector256.Create(d * da), acc[t]);
            }
        }

        for (int t = 0; t < 4; t++)
        {
            results[t] = Vector256.Sum(acc[t]);
        }
    }

    /// <summary>
    /// The 8 signed scales (ls − 32) as int16 in both 128-bit lanes (AVX2), for <see cref="BlockQ6_K.PairScales"/>: each
    /// scale's bits shifted out of scales_l and scales_h by per-lane variable shifts, then packed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> LaneScales(ref byte block)
    {
        var low = Avx2.ShiftRightLogicalVariable(
            Vector256.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 4))), Vector256.Create(0u, 4, 8, 12, 16, 20, 24, 28));
        var high = Avx2.ShiftRightLogicalVariable(
            Vector256.Create((uint)Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, 2))), Vector256.Create(0u, 2, 4, 6, 8, 10, 12, 14));
        var scales = ((low & Vector256.Create(15u)) | ((high & Vector256.Create(3u)) << 4)).AsInt32() - Vector256.Create(32);

        // Packing works per lane (scales 0-3 in the low lane, 4-7 in the high one, each twice); the qword permute
        // puts 0-3 then 4-7 in both lanes.
        var packed = Avx2.PackSignedSaturate(scales, scales);
        return Avx2.Permute4x64(packed.AsInt64(), 0b10_00_10_00).AsByte();
    }

    /// <summary>Σ (ls − 32)·level·a over sub-blocks 2k and 2k + 1, as 8 int32 partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> PairSum(ref byte block, ref byte a, Vector256<byte> scales, int k)
    {
        var packed = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 8 + (32 * k)));
        var nibble = Vector256.Create((byte)0x0F);
        var first = BlockIQ4_NL.Levels(packed & nibble);                               // elements 0-15 of each sub-block
        var second = BlockIQ4_NL.Levels((packed.AsUInt16() >> 4).AsByte() & nibble);  // elements 16-31
        var a0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref a, 4 + (64 * k)));
        var a1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref a, 36 + (64 * k)));
        var pairScales = BlockQ6_K.PairScales(scales, 2 * k);
        return Avx2.MultiplyAddAdjacent(SignedPairs(first, Avx2.Permute2x128(a0, a1, 0x20).AsSByte()), pairScales)
            + Avx2.MultiplyAddAdjacent(SignedPairs(second, Avx2.Permute2x128(a0, a1, 0x31).AsSByte()), pairScales);
    }

    /// <summary>Pair sums of w·a for signed w (|w| ≤ 127): vpmaddubsw of |w| with the activations carrying w's sign.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> SignedPairs(Vector256<sbyte> w, Vector256<sbyte> a) =>
        Avx2.MultiplyAddAdjacent(Avx2.Sign(w, w).AsByte(), Avx2.Sign(a, w));
}
