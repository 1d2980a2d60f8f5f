using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// Building blocks shared by the block formats' Vector256 and Vector128 paths: reading fp16 scales, splitting nibbles,
/// and turning 32 (or 16) small integers into floats to dot with activations or to store.
/// </summary>
internal static class QuantSimd
{
    /// <summary>
    /// <c>HighBit16[b]</c> spreads the 8 bits of <c>b</c> over 8 bytes: byte k is 0x10 when bit k is set.
    /// Four lookups turn Q5's 32 high bits into the 32 bytes to OR onto the nibbles.
    /// </summary>
    private static readonly ulong[] HighBit16 = BuildHighBitTable();

    /// <summary>Every half's float, by its bits (256 KB, built on first use).</summary>
    private static readonly float[] HalfTable = BuildHalfTable();

    /// <summary>
    /// The first of the 65536 floats of every fp16 bit pattern: <c>Unsafe.Add(ref HalfToSingle, bits)</c> widens a
    /// half exactly in one load, as ggml does where it has no F16C. For the one-token decode loops, whose two scales per
    /// super-block took about 15 instructions through <see cref="RowF16.ToSingle(Vector128{uint})"/>; the few scales
    /// of a model touch few of the table's lines.
    /// </summary>
    public static ref float HalfToSingle => ref MemoryMarshal.GetArrayDataReference(HalfTable);

    /// <summary>
    /// Reads a little-endian IEEE half and widens it to float, exactly (the block scales of the hot loops): one load from
    /// <see cref="HalfToSingle"/>, the bits of <see cref="RowF16.ToSingle(Vector128{uint})"/> (no float arithmetic on a
    /// subnormal, which costs a microcode assist on some machines).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReadHalf(ref byte p) => Unsafe.Add(ref HalfToSingle, Unsafe.ReadUnaligned<ushort>(ref p));

    /// <summary>
    /// Four block scales (fp16, <paramref name="stride"/> bytes apart) widened to floats at once: the
    /// integer dot products convert scales in fours rather than one scalar conversion per block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ReadHalves4(ref byte first, int stride) =>
        RowF16.ToSingle(Vector128.Create(
            (uint)Unsafe.ReadUnaligned<ushort>(ref first),
            Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref first, stride)),
            Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref first, 2 * stride)),
            Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref first, 3 * stride))));

    /// <summary>Reads a little-endian IEEE half at <paramref name="offset"/> of <paramref name="bytes"/> (the reference paths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReadHalf(ReadOnlySpan<byte> bytes, int offset) =>
        (float)BitConverter.UInt16BitsToHalf(MemoryMarshal.Read<ushort>(bytes[offset..]));

    /// <summary>Writes <paramref name="value"/> as a little-endian IEEE half (round to nearest even).</summary>
    public static void WriteHalf(Span<byte> bytes, int offset, float value) =>
        MemoryMarshal.Write(bytes[offset..], BitConverter.HalfToUInt16Bits((Half)value));

    /// <summary>16 bytes of packed nibbles → 32 values: the 16 low nibbles, then the 16 high nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> SplitNibbles(Vector128<byte> packed) =>
        Vector256.Create(packed & Vector128.Create((byte)0x0F), packed >>> 4);

    /// <summary>The 32 high bits of a Q5 block as 32 bytes of 0x10 or 0 (bit k → byte k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> HighBits(uint qh)
    {
        if (Avx2.IsSupported)
        {
            return HighBitMask(qh) & Vector256.Create((byte)0x10);
        }

        ulong[] table = HighBit16;
        return Vector256.Create(table[qh & 0xFF], table[(qh >> 8) & 0xFF], table[(qh >> 16) & 0xFF], table[qh >> 24]).AsByte();
    }

    /// <summary>
    /// The 32 bits of <paramref name="qh"/> as 32 bytes of 0xFF (bit set) or 0 (AVX2 only): byte k gets byte k/8 of qh
    /// (an in-lane shuffle of qh broadcast), is OR'ed with all bits but bit k % 8, and compares equal to all ones
    /// exactly when that bit is set.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> HighBitMask(uint qh)
    {
        var spread = Avx2.Shuffle(
            Vector256.Create(qh).AsByte(),
            Vector256.Create(0x0000000000000000UL, 0x0101010101010101UL, 0x0202020202020202UL, 0x0303030303030303UL).AsByte());
        return Vector256.Equals(spread | Vector256.Create(0x7FBFDFEFF7FBFDFEUL).AsByte(), Vector256<byte>.AllBitsSet);
    }

    /// <summary>
    /// Multiplies 32 int8 values by 32 floats and returns the products of elements 0..15 in
    /// <paramref name="low"/> and of 16..31 in <paramref name="high"/>, each as 8 partial sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot32(Vector256<sbyte> q, ref float x, out Vector256<float> low, out Vector256<float> high)
    {
        Vector256<short> q0 = Vector256.WidenLower(q);
        Vector256<short> q1 = Vector256.WidenUpper(q);
        Vector256<float> f0 = Vector256.ConvertToSingle(Vector256.WidenLower(q0));
        Vector256<float> f1 = Vector256.ConvertToSingle(Vector256.WidenUpper(q0));
        Vector256<float> f2 = Vector256.ConvertToSingle(Vector256.WidenLower(q1));
        Vector256<float> f3 = Vector256.ConvertToSingle(Vector256.WidenUpper(q1));
        low = Simd.MulAdd(f1, Vector256.LoadUnsafe(ref x, 8), f0 * Vector256.LoadUnsafe(ref x));
        high = Simd.MulAdd(f3, Vector256.LoadUnsafe(ref x, 24), f2 * Vector256.LoadUnsafe(ref x, 16));
    }

    /// <summary>Σ q[i]·x[i] over 32 elements, as 8 partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Dot32(Vector256<sbyte> q, ref float x)
    {
        Dot32(q, ref x, out var low, out var high);
        return low + high;
    }

    /// <summary>
    /// Σ q[i]·x[i] over 16 int8 values on Vector128 (SSE, NEON), as 4 partial sums: the 128-bit block dots of Q8_0
    /// and Q4_0 add two of these per block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Dot16(Vector128<sbyte> q, ref float x)
    {
        Vector128<short> q0 = Vector128.WidenLower(q);
        Vector128<short> q1 = Vector128.WidenUpper(q);
        var p0 = Simd.MulAdd(Vector128.ConvertToSingle(Vector128.WidenUpper(q0)), Vector128.LoadUnsafe(ref x, 4),
            Vector128.ConvertToSingle(Vector128.WidenLower(q0)) * Vector128.LoadUnsafe(ref x));
        var p1 = Simd.MulAdd(Vector128.ConvertToSingle(Vector128.WidenUpper(q1)), Vector128.LoadUnsafe(ref x, 12),
            Vector128.ConvertToSingle(Vector128.WidenLower(q1)) * Vector128.LoadUnsafe(ref x, 8));
        return p0 + p1;
    }

    /// <summary>Stores <c>q[i] * scale</c> for 16 int8 values on Vector128 (same rounding as the scalar reference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store16(Vector128<sbyte> q, float scale, ref float dst)
    {
        Vector128<short> q0 = Vector128.WidenLower(q);
        Vector128<short> q1 = Vector128.WidenUpper(q);
        (Vector128.ConvertToSingle(Vector128.WidenLower(q0)) * scale).StoreUnsafe(ref dst);
        (Vector128.ConvertToSingle(Vector128.WidenUpper(q0)) * scale).StoreUnsafe(ref dst, 4);
        (Vector128.ConvertToSingle(Vector128.WidenLower(q1)) * scale).StoreUnsafe(ref dst, 8);
        (Vector128.ConvertToSingle(Vector128.WidenUpper(q1)) * scale).StoreUnsafe(ref dst, 12);
    }

    /// <summary>
    /// Stores <c>q[i] * scale + offset</c> for 16 int8 values on Vector128, as a multiply then an add (never fused), so
    /// that the result is bit-identical to the scalar reference (the affine formats; the K-quants pass −dmin·m, and
    /// <c>a + (−b)</c> is <c>a − b</c> exactly).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store16(Vector128<sbyte> q, float scale, float offset, ref float dst)
    {
        Vector128<short> q0 = Vector128.WidenLower(q);
        Vector128<short> q1 = Vector128.WidenUpper(q);
        var vOffset = Vector128.Create(offset);
        ((Vector128.ConvertToSingle(Vector128.WidenLower(q0)) * scale) + vOffset).StoreUnsafe(ref dst);
        ((Vector128.ConvertToSingle(Vector128.WidenUpper(q0)) * scale) + vOffset).StoreUnsafe(ref dst, 4);
        ((Vector128.ConvertToSingle(Vector128.WidenLower(q1)) * scale) + vOffset).StoreUnsafe(ref dst, 8);
        ((Vector128.ConvertToSingle(Vector128.WidenUpper(q1)) * scale) + vOffset).StoreUnsafe(ref dst, 12);
    }

    /// <summary>Σ x[i] over 16 floats on Vector128, as 4 partial sums (the "min" term of affine blocks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum16(ref float x) =>
        (Vector128.LoadUnsafe(ref x) + Vector128.LoadUnsafe(ref x, 4)) +
        (Vector128.LoadUnsafe(ref x, 8) + Vector128.LoadUnsafe(ref x, 12));

    /// <summary>
    /// <c>acc + scale · Σ q[i]·x[i] + offset · Σ x[i]</c> over 32 values on Vector128 (<paramref name="low"/>: elements
    /// 0–15, <paramref name="high"/>: 16–31), as 4 partial sums: the float dot of an affine block or sub-block (Q4_1,
    /// Q5_1, Q4_K, Q5_K), two fused multiply-adds as on Vector256.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> DotAffine32(
        Vector128<sbyte> low, Vector128<sbyte> high, float scale, float offset, ref float x, Vector128<float> acc)
    {
        ref float x16 = ref Unsafe.Add(ref x, 16);
        acc = Simd.MulAdd(Dot16(low, ref x) + Dot16(high, ref x16), Vector128.Create(scale), acc);
        return Simd.MulAdd(Sum16(ref x) + Sum16(ref x16), Vector128.Create(offset), acc);
    }

    /// <summary>
    /// Bits 0–15 of <paramref name="bits"/> as 16 bytes of 0xFF (bit set) or 0 (bit k → byte k), in portable Vector128
    /// operations (the Q5 high bits on SSE and NEON alike).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> BitMask16(uint bits)
    {
        // Each of the two bytes repeated over 8 bytes by a multiply (it cannot carry: the byte is < 256); byte k then
        // keeps only bit k % 8 and equals that bit exactly when it is set. No shuffle, so no table or SSSE3/TBL needed.
        const ulong repeat = 0x0101010101010101UL;
        var bit = Vector128.Create(0x8040201008040201UL).AsByte();
        var spread = Vector128.Create((bits & 0xFF) * repeat, ((bits >> 8) & 0xFF) * repeat).AsByte();
        return Vector128.Equals(spread & bit, bit);
    }

    /// <summary>
    /// A block format of 32 values with its fp16 scale d at offset 0 for the Vector128 loops: symmetric (Q4_0, Q5_0,
    /// Q8_0: <c>d · q</c>, <see cref="DequantizeScaled128{TBlock}"/>) or affine (Q4_1, Q5_1: <c>d · q + m</c>, fp16 m
    /// at offset 2, <see cref="DequantizeAffine128{TBlock}"/>).
    /// </summary>
    internal interface IBlock128
    {
        /// <summary>Bytes per block.</summary>
        static abstract int BlockBytes { get; }

        /// <summary>The block's 32 values q as elements 0–15 and 16–31 (any offset of the format already taken off).</summary>
        static abstract void Unpack128(ref byte block, out Vector128<sbyte> low, out Vector128<sbyte> high);
    }

    /// <summary>
    /// A symmetric block format of 32 values (<c>d · q</c>, fp16 d at offset 0) whose whole dequantize and float dot,
    /// every width, are <see cref="DequantizeScaled{TBlock}"/> and <see cref="DotScaled{TBlock}"/> (Q4_0, Q5_0, IQ4_NL):
    /// the format supplies its unpacks and its scalar references.
    /// </summary>
    internal interface IScaledBlock : IBlock128
    {
        /// <summary>The block's 32 values q in element order (any offset of the format already taken off).</summary>
        static abstract Vector256<sbyte> Unpack256(ref byte block);

        /// <summary>The format's scalar reference dequantize.</summary>
        static abstract void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst);

        /// <summary>The format's scalar reference dot.</summary>
        static abstract float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x);
    }

    /// <summary>
    /// Dequantizes a symmetric block format on Vector256 (or Vector128) when allowed, bit-exact with the reference,
    /// else the reference.
    /// </summary>
    public static void DequantizeScaled<TBlock>(ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
        where TBlock : struct, IScaledBlock
    {
        if (Use128(width))
        {
            DequantizeScaled128<TBlock>(src, dst);
            return;
        }

        if (width < SimdWidth.V256 || !Vector256.IsHardwareAccelerated)
        {
            TBlock.DequantizeReference(src, dst);
            return;
        }

        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / 32; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * TBlock.BlockBytes);
            Store32(TBlock.Unpack256(ref block), ReadHalf(ref block), ref Unsafe.Add(ref d, b * 32));
        }
    }

    /// <summary>The float dot of a symmetric block format on Vector256 (or Vector128) when allowed, else the reference.</summary>
    public static float DotScaled<TBlock>(ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width)
        where TBlock : struct, IScaledBlock
    {
        if (Use128(width))
        {
            return DotScaled128<TBlock>(row, x);
        }

        if (width < SimdWidth.V256 || !Vector256.IsHardwareAccelerated)
        {
            return TBlock.DotReference(row, x);
        }

        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < x.Length / 32; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * TBlock.BlockBytes);
            var partial = Dot32(TBlock.Unpack256(ref block), ref Unsafe.Add(ref xr, b * 32));
            acc = Simd.MulAdd(partial, Vector256.Create(ReadHalf(ref block)), acc);
        }

        return Vector256.Sum(acc);
    }

    /// <summary>The Vector128 path (SSE, NEON) of a symmetric format's dequantize: <c>d · q</c>, bit-exact with the reference.</summary>
    public static void DequantizeScaled128<TBlock>(ReadOnlySpan<byte> src, Span<float> dst)
        where TBlock : struct, IBlock128
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / 32; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * TBlock.BlockBytes);
            float scale = ReadHalf(ref block);
            ref float y = ref Unsafe.Add(ref d, b * 32);
            TBlock.Unpack128(ref block, out var low, out var high);
            Store16(low, scale, ref y);
            Store16(high, scale, ref Unsafe.Add(ref y, 16));
        }
    }

    /// <summary>
    /// The Vector128 path (SSE, NEON) of a symmetric format's float dot: per block Σ q·x as four partial sums, then one
    /// fused multiply-add by the block scale.
    /// </summary>
    public static float DotScaled128<TBlock>(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
        where TBlock : struct, IBlock128
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < x.Length / 32; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * TBlock.BlockBytes);
            ref float xb = ref Unsafe.Add(ref xr, b * 32);
            TBlock.Unpack128(ref block, out var low, out var high);
            var partial = Dot16(low, ref xb) + Dot16(high, ref Unsafe.Add(ref xb, 16));
            acc = Simd.MulAdd(partial, Vector128.Create(ReadHalf(ref block)), acc);
        }

        return Vector128.Sum(acc);
    }

    /// <summary>The Vector128 path (SSE, NEON) of an affine format's dequantize: <c>d · q + m</c>, bit-exact with the reference.</summary>
    public static void DequantizeAffine128<TBlock>(ReadOnlySpan<byte> src, Span<float> dst)
        where TBlock : struct, IBlock128
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        for (int b = 0; b < dst.Length / 32; b++)
        {
            ref byte block = ref Unsafe.Add(ref s, b * TBlock.BlockBytes);
            float scale = ReadHalf(ref block);
            float min = ReadHalf(ref Unsafe.Add(ref block, 2));
            ref float y = ref Unsafe.Add(ref d, b * 32);
            TBlock.Unpack128(ref block, out var low, out var high);
            Store16(low, scale, min, ref y);
            Store16(high, scale, min, ref Unsafe.Add(ref y, 16));
        }
    }

    /// <summary>
    /// The Vector128 path (SSE, NEON) of an affine format's float dot: per block d·Σ q·x and m·Σ x as four partial sums
    /// each, one fused multiply-add per term.
    /// </summary>
    public static float DotAffine128<TBlock>(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
        where TBlock : struct, IBlock128
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < x.Length / 32; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * TBlock.BlockBytes);
            TBlock.Unpack128(ref block, out var low, out var high);
            acc = DotAffine32(low, high, ReadHalf(ref block), ReadHalf(ref Unsafe.Add(ref block, 2)), ref Unsafe.Add(ref xr, b * 32), acc);
        }

        return Vector128.Sum(acc);
    }

    /// <summary>
    /// The scalar reference dot product of a block format: each block dequantized by the format's scalar reference
    /// (<paramref name="dequantizeReference"/>), then Σ dequantized[i] · x[i] in element order.
    /// </summary>
    public static unsafe float DotReference(
        ReadOnlySpan<byte> row, ReadOnlySpan<float> x, int blockSize, int blockBytes, delegate*<ReadOnlySpan<byte>, Span<float>, void> dequantizeReference)
    {
        Span<float> y = stackalloc float[blockSize];
        float sum = 0;
        for (int b = 0; b < x.Length / blockSize; b++)
        {
            dequantizeReference(row.Slice(b * blockBytes, blockBytes), y);
            for (int j = 0; j < blockSize; j++)
            {
                sum += y[j] * x[(b * blockSize) + j];
            }
        }

        return sum;
    }

    /// <summary>Whether the Vector128 path of a quant row applies: asked for V128, or wider but Vector256 is not accelerated.</summary>
    public static bool Use128(SimdWidth width) =>
        width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated && (width < SimdWidth.V256 || !Vector256.IsHardwareAccelerated);

    /// <summary>Σ x[i] over 32 floats, as 8 partial sums (the "min" term of affine blocks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sum32(ref float x) =>
        (Vector256.LoadUnsafe(ref x) + Vector256.LoadUnsafe(ref x, 8)) +
        (Vector256.LoadUnsafe(ref x, 16) + Vector256.LoadUnsafe(ref x, 24));

    /// <summary>Stores <c>q[i] * scale</c> for 32 elements (same rounding as the scalar reference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store32(Vector256<sbyte> q, float scale, ref float dst)
    {
        if (Avx2.IsSupported)
        {
            SignExtend(q, out var q0, out var q1, out var q2, out var q3);
            var s = Vector256.Create(scale);
            (Vector256.ConvertToSingle(q0) * s).StoreUnsafe(ref dst);
            (Vector256.ConvertToSingle(q1) * s).StoreUnsafe(ref dst, 8);
            (Vector256.ConvertToSingle(q2) * s).StoreUnsafe(ref dst, 16);
            (Vector256.ConvertToSingle(q3) * s).StoreUnsafe(ref dst, 24);
            return;
        }

        Vector256<short> h0 = Vector256.WidenLower(q);
        Vector256<short> h1 = Vector256.WidenUpper(q);
        (Vector256.ConvertToSingle(Vector256.WidenLower(h0)) * scale).StoreUnsafe(ref dst);
        (Vector256.ConvertToSingle(Vector256.WidenUpper(h0)) * scale).StoreUnsafe(ref dst, 8);
        (Vector256.ConvertToSingle(Vector256.WidenLower(h1)) * scale).StoreUnsafe(ref dst, 16);
        (Vector256.ConvertToSingle(Vector256.WidenUpper(h1)) * scale).StoreUnsafe(ref dst, 24);
    }

    /// <summary>
    /// Stores <c>q[i] * scale + offset</c> for 32 elements, as a multiply then an add (never fused), so
    /// that the result is bit-identical to the scalar reference.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store32(Vector256<sbyte> q, float scale, float offset, ref float dst)
    {
        var vOffset = Vector256.Create(offset);
        if (Avx2.IsSupported)
        {
            SignExtend(q, out var q0, out var q1, out var q2, out var q3);
            var s = Vector256.Create(scale);
            ((Vector256.ConvertToSingle(q0) * s) + vOffset).StoreUnsafe(ref dst);
            ((Vector256.ConvertToSingle(q1) * s) + vOffset).StoreUnsafe(ref dst, 8);
            ((Vector256.ConvertToSingle(q2) * s) + vOffset).StoreUnsafe(ref dst, 16);
            ((Vector256.ConvertToSingle(q3) * s) + vOffset).StoreUnsafe(ref dst, 24);
            return;
        }

        Vector256<short> h0 = Vector256.WidenLower(q);
        Vector256<short> h1 = Vector256.WidenUpper(q);
        ((Vector256.ConvertToSingle(Vector256.WidenLower(h0)) * scale) + vOffset).StoreUnsafe(ref dst);
        ((Vector256.ConvertToSingle(Vector256.WidenUpper(h0)) * scale) + vOffset).StoreUnsafe(ref dst, 8);
        ((Vector256.ConvertToSingle(Vector256.WidenLower(h1)) * scale) + vOffset).StoreUnsafe(ref dst, 16);
        ((Vector256.ConvertToSingle(Vector256.WidenUpper(h1)) * scale) + vOffset).StoreUnsafe(ref dst, 24);
    }

    /// <summary>
    /// Stores <c>q[i] * scaleLow</c> for elements 0..15 and <c>q[i] * scaleHigh</c> for 16..31 (two sub-blocks of 16,
    /// same rounding as the scalar reference).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store32Halves(Vector256<sbyte> q, float scaleLow, float scaleHigh, ref float dst)
    {
        if (Avx2.IsSupported)
        {
            // Bytes sign-extended from memory (see SignExtend).
            SignExtend(q, out var q0, out var q1, out var q2, out var q3);
            var s0 = Vector256.Create(scaleLow);
            var s1 = Vector256.Create(scaleHigh);
            (Vector256.ConvertToSingle(q0) * s0).StoreUnsafe(ref dst);
            (Vector256.ConvertToSingle(q1) * s0).StoreUnsafe(ref dst, 8);
            (Vector256.ConvertToSingle(q2) * s1).StoreUnsafe(ref dst, 16);
            (Vector256.ConvertToSingle(q3) * s1).StoreUnsafe(ref dst, 24);
            return;
        }

        Store16(Vector256.WidenLower(q), scaleLow, ref dst);
        Store16(Vector256.WidenUpper(q), scaleHigh, ref Unsafe.Add(ref dst, 16));
    }

    /// <summary>
    /// Stores <c>q[i] * scaleLow + offsetLow</c> for elements 0..15 and <c>q[i] * scaleHigh + offsetHigh</c> for 16..31,
    /// each a multiply then an add (never fused), bit-identical to the scalar reference (the K-quants with mins pass
    /// −dmin·m, and <c>a + (−b)</c> is <c>a − b</c> exactly).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store32Halves(Vector256<sbyte> q, float scaleLow, float offsetLow, float scaleHigh, float offsetHigh, ref float dst)
    {
        if (Avx2.IsSupported)
        {
            SignExtend(q, out var q0, out var q1, out var q2, out var q3);
            var s0 = Vector256.Create(scaleLow);
            var s1 = Vector256.Create(scaleHigh);
            var o0 = Vector256.Create(offsetLow);
            var o1 = Vector256.Create(offsetHigh);
            ((Vector256.ConvertToSingle(q0) * s0) + o0).StoreUnsafe(ref dst);
            ((Vector256.ConvertToSingle(q1) * s0) + o0).StoreUnsafe(ref dst, 8);
            ((Vector256.ConvertToSingle(q2) * s1) + o1).StoreUnsafe(ref dst, 16);
            ((Vector256.ConvertToSingle(q3) * s1) + o1).StoreUnsafe(ref dst, 24);
            return;
        }

        Store16(q.GetLower(), scaleLow, offsetLow, ref dst);
        Store16(q.GetUpper(), scaleHigh, offsetHigh, ref Unsafe.Add(ref dst, 16));
    }

    /// <summary>
    /// The 32 bytes of <paramref name="q"/> as four vectors of 8 int32 (bytes 0–7, 8–15, 16–23, 24–31), AVX2 only
    /// (callers check <see cref="Avx2.IsSupported"/>). Sign-extending 8 bytes at a time from memory (<c>vpmovsxbd</c>,
    /// from the vector spilled to the stack) beats widening in registers twice (bytes → shorts → ints, each upper half
    /// through a lane-crossing extract): a Q4_0 row dequantized 5.5 → 4.1 ns per block (dq harness, one core).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void SignExtend(Vector256<sbyte> q, out Vector256<int> q0, out Vector256<int> q1, out Vector256<int> q2, out Vector256<int> q3)
    {
        Vector256<sbyte> spilled = q;
        sbyte* p = (sbyte*)&spilled;
        q0 = Avx2.ConvertToVector256Int32(p);
        q1 = Avx2.ConvertToVector256Int32(p + 8);
        q2 = Avx2.ConvertToVector256Int32(p + 16);
        q3 = Avx2.ConvertToVector256Int32(p + 24);
    }

    /// <summary>Stores 16 int8 values (the low half of <paramref name="q"/>) times <paramref name="scale"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store16(Vector256<short> q, float scale, ref float dst)
    {
        (Vector256.ConvertToSingle(Vector256.WidenLower(q)) * scale).StoreUnsafe(ref dst);
        (Vector256.ConvertToSingle(Vector256.WidenUpper(q)) * scale).StoreUnsafe(ref dst, 8);
    }

    /// <summary>
    /// Σ w[i]·a[i] of 32 signed bytes as 8 int32 partial sums (AVX2; callers check <see cref="Avx2.IsSupported"/>).
    /// vpmaddubsw (or VNNI's vpdpbusd, <see cref="Int8Simd.DotSum(Vector256{byte}, Vector256{sbyte})"/>) multiplies
    /// unsigned by signed bytes, so the signs move onto the activations first (|w| · sign(w)·a); with |a| ≤ 127 no
    /// int16 pair sum saturates, even for w = -128.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotInt8(Vector256<sbyte> w, Vector256<sbyte> a) =>
        Int8Simd.DotSum(Avx2.Sign(w, w).AsByte(), Avx2.Sign(a, w));

    /// <summary>
    /// Σ u[i]·a[i]·scale per 16-bit pair: vpmaddubsw of 32 unsigned weights (≤ 63) with 32 signed
    /// activations, then vpmaddwd with per-pair int16 scales. Returns 8 int32 partial sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotUInt8Scaled(Vector256<byte> u, Vector256<sbyte> a, Vector256<short> scales) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, a), scales);

    private static float[] BuildHalfTable()
    {
        var table = new float[65536];
        for (int h = 0; h < table.Length; h++)
        {
            table[h] = RowF16.ToSingle(Vector128.CreateScalar((uint)h)).ToScalar(); // the vector widening's bits, NaN payloads included
        }

        return table;
    }

    private static ulong[] BuildHighBitTable()
    {
        var table = new ulong[256];
        for (int b = 0; b < 256; b++)
        {
            ulong v = 0;
            for (int k = 0; k < 8; k++)
            {
                if ((b & (1 << k)) != 0)
                {
                    v |= 0x10UL << (8 * k);
                }
            }

            table[b] = v;
        }

        return table;
    }
}
