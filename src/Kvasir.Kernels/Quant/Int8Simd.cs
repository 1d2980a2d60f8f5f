using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The integer operations of the int8 dot products at 512 bits, and the u8 × s8 dot of four bytes at 256 bits. Each
/// 512-bit operation runs as the AVX-512 instruction where the machine has it (<see cref="Avx512BW"/>), and otherwise
/// as the same instruction on the two 256-bit halves (AVX2), with the same result bit for bit. The emulation lets the
/// 512-bit kernels run, and be tested, on an AVX2 machine (slowly: production takes them only where
/// <see cref="Simd.Best"/> is <see cref="SimdWidth.V512"/>, i.e. on AVX-512 hardware). Operations that the portable
/// <see cref="Vector512"/> API already provides in software (loads, +, shifts, masks, ConvertToSingle) need no
/// entry here. Callers check <see cref="Avx2.IsSupported"/>.
/// </summary>
/// <remarks>
/// <para>
/// VNNI: <c>vpdpbusd</c> adds the four u8 × s8 products of each int32 lane to it without an intermediate rounding;
/// <c>vpmaddubsw</c> + <c>vpmaddwd</c> first add the products in pairs to int16, saturating. The two agree exactly when
/// no pair sum leaves [−32768, 32767], which <see cref="DotSum(Vector256{byte}, Vector256{sbyte})"/> and
/// <see cref="DotSum(Vector512{byte}, Vector512{sbyte})"/> require of their callers. In the kernels the signed operand is
/// always an activation quantized by ggml's Q8_0 or Q8_K rounding, so |a| ≤ 127, and the unsigned one is at most
/// 15 (Q4_0, Q4_K nibbles), 31 (Q5_0), 63 (Q6_K) or 128 (|w| of Q8_0 weights after the sign moves onto the activation):
/// the largest pair sum is 2 · 128 · 127 = 32512. Hence VNNI, where it is used, gives the int32 sums of the
/// <c>vpmaddubsw</c> path bit for bit (asserted on these ranges in Int8SimdTests).
/// </para>
/// <para>
/// .NET 10 has no 512-bit <c>vpdpbusd</c> (AVX512-VNNI; dotnet/runtime#86849 is approved but not shipped), only the
/// 256-bit VEX form <see cref="AvxVnni"/>. The 512-bit <see cref="DotSum(Vector512{byte}, Vector512{sbyte})"/> therefore
/// uses <c>vpmaddubsw</c> + <c>vpmaddwd</c> on zmm: splitting a zmm into two ymm for <see cref="AvxVnni"/> would cost
/// an extract and an insert per operand, more than the instruction saves.
/// </para>
/// </remarks>
internal static class Int8Simd
{
    /// <summary>
    /// Per int32 lane, the sum of its four u8 × s8 products (<c>vpdpbusd</c> from zero; <see cref="AvxVnni"/> where the
    /// machine has it, else <c>vpmaddubsw</c> + <c>vpmaddwd</c> with ones). Requires that no pair
    /// <c>u[2i]·s[2i] + u[2i+1]·s[2i+1]</c> leaves int16 (see the remarks), under which both give the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotSum(Vector256<byte> u, Vector256<sbyte> s) =>
        AvxVnni.IsSupported
            ? AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, u, s)
            : Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256<short>.One);

    /// <summary>
    /// <c>vpdpbusd</c>: per int32 lane, <paramref name="acc"/> plus the four u8 × s8 products of the lane, with no
    /// intermediate rounding or saturation for any operands (products up to 255 · 128). AVX-VNNI where the machine has
    /// it; elsewhere lane by lane in scalar code, exact but slow: <see cref="Q8_0Gemm"/> runs only on VNNI machines
    /// and the scalar form lets its tests run everywhere.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotSumAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, u, s) : DotSumAddScalar(acc, u, s);

    private static Vector256<int> DotSumAddScalar(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s)
    {
        Span<int> lanes = stackalloc int[8];
        for (int i = 0; i < 8; i++)
        {
            int sum = acc.GetElement(i);
            for (int j = 4 * i; j < (4 * i) + 4; j++)
            {
                sum += u.GetElement(j) * s.GetElement(j);
            }

            lanes[i] = sum;
        }

        return Vector256.Create<int>(lanes);
    }

    /// <summary>
    /// <see cref="DotSum(Vector256{byte}, Vector256{sbyte})"/> at 512 bits (16 int32 lanes), with the same requirement.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> DotSum(Vector512<byte> u, Vector512<sbyte> s)
    {
        if (Avx512BW.IsSupported)
        {
            return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, s), Vector512<short>.One);
        }

        return Vector512.Create(DotSum(u.GetLower(), s.GetLower()), DotSum(u.GetUpper(), s.GetUpper()));
    }

    /// <summary>
    /// <c>vpmaddubsw</c>: per int16 lane, <c>u[2i]·s[2i] + u[2i+1]·s[2i+1]</c>, saturated to int16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> MultiplyAddAdjacent(Vector512<byte> u, Vector512<sbyte> s)
    {
        if (Avx512BW.IsSupported)
        {
            return Avx512BW.MultiplyAddAdjacent(u, s);
        }

        return Vector512.Create(
            Avx2.MultiplyAddAdjacent(u.GetLower(), s.GetLower()), Avx2.MultiplyAddAdjacent(u.GetUpper(), s.GetUpper()));
    }

    /// <summary><c>vpmaddwd</c>: per int32 lane, <c>a[2i]·b[2i] + a[2i+1]·b[2i+1]</c> (wraps only for −32768² · 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> MultiplyAddAdjacent(Vector512<short> a, Vector512<short> b)
    {
        if (Avx512BW.IsSupported)
        {
            return Avx512BW.MultiplyAddAdjacent(a, b);
        }

        return Vector512.Create(
            Avx2.MultiplyAddAdjacent(a.GetLower(), b.GetLower()), Avx2.MultiplyAddAdjacent(a.GetUpper(), b.GetUpper()));
    }

    /// <summary><c>vpabsb</c>: |a| of 64 signed bytes as unsigned bytes (|−128| = 128).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Abs(Vector512<sbyte> a)
    {
        if (Avx512BW.IsSupported)
        {
            return Avx512BW.Abs(a);
        }

        return Vector512.Create(Avx2.Abs(a.GetLower()), Avx2.Abs(a.GetUpper()));
    }

    /// <summary>
    /// <c>psignb</c> at 512 bits: <c>a</c> where <c>s &gt; 0</c>, <c>−a</c> (wrapping: −(−128) = −128) where
    /// <c>s &lt; 0</c>, 0 where <c>s = 0</c>. AVX-512 has no <c>vpsignb</c>; there it is a compare, a masked subtract and
    /// an and-not.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<sbyte> Sign(Vector512<sbyte> a, Vector512<sbyte> s)
    {
        if (Avx512BW.IsSupported)
        {
            var zero = Vector512<sbyte>.Zero;
            var signed = Vector512.ConditionalSelect(Vector512.LessThan(s, zero), zero - a, a);
            return Vector512.AndNot(signed, Vector512.Equals(s, zero));
        }

        return Vector512.Create(Avx2.Sign(a.GetLower(), s.GetLower()), Avx2.Sign(a.GetUpper(), s.GetUpper()));
    }

    /// <summary>
    /// <paramref name="a"/> with the sign of <paramref name="s"/> moved onto it, for a product with |s|: as
    /// <see cref="Sign(Vector512{sbyte}, Vector512{sbyte})"/> except where s = 0, where it leaves a (any value times
    /// |s| = 0 is 0, so the products are the same). On AVX-512 a compare and a masked subtract, without the and-not.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<sbyte> SignForProduct(Vector512<sbyte> a, Vector512<sbyte> s)
    {
        if (Avx512BW.IsSupported)
        {
            var zero = Vector512<sbyte>.Zero;
            return Vector512.ConditionalSelect(Vector512.LessThan(s, zero), zero - a, a);
        }

        return Sign(a, s);
    }

    /// <summary>
    /// <c>[lower | upper]</c> as one 512-bit vector: on AVX-512 one <c>vinserti64x4</c> into <paramref name="lower"/>
    /// (<see cref="Vector512.Create(Vector256{byte}, Vector256{byte})"/> compiles to two inserts into a register that
    /// carries over from the previous loop iteration).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Combine(Vector256<byte> lower, Vector256<byte> upper) =>
        Avx512F.IsSupported ? Avx512F.InsertVector256(lower.ToVector512Unsafe(), upper, 1) : Vector512.Create(lower, upper);

    /// <summary>
    /// <c>vpshufb</c> at 512 bits: within each 128-bit lane, byte i becomes byte <c>indices[i] &amp; 15</c> of the same
    /// lane, or 0 where bit 7 of <c>indices[i]</c> is set. Unlike <see cref="Vector512.Shuffle(Vector512{byte}, Vector512{byte})"/>,
    /// which indexes the whole vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> ShuffleInLanes(Vector512<byte> value, Vector512<byte> indices)
    {
        if (Avx512BW.IsSupported)
        {
            return Avx512BW.Shuffle(value, indices);
        }

        return Vector512.Create(
            Avx2.Shuffle(value.GetLower(), indices.GetLower()), Avx2.Shuffle(value.GetUpper(), indices.GetUpper()));
    }

    /// <summary>
    /// <c>vphaddd</c> at 512 bits (no such instruction: two <c>vshufps</c> and an add): within each 128-bit lane,
    /// <c>[x0 + x1, x2 + x3, y0 + y1, y2 + y3]</c> (wrapping).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> HorizontalAdd(Vector512<int> x, Vector512<int> y)
    {
        if (Avx512F.IsSupported)
        {
            // vshufps per lane: [left[i0], left[i1], right[i2], right[i3]], two bits per index from the low end.
            var even = Avx512F.Shuffle(x.AsSingle(), y.AsSingle(), 0b10_00_10_00).AsInt32(); // [x0, x2, y0, y2]
            var odd = Avx512F.Shuffle(x.AsSingle(), y.AsSingle(), 0b11_01_11_01).AsInt32();  // [x1, x3, y1, y3]
            return even + odd;
        }

        return Vector512.Create(
            Avx2.HorizontalAdd(x.GetLower(), y.GetLower()), Avx2.HorizontalAdd(x.GetUpper(), y.GetUpper()));
    }

    /// <summary>
    /// The 32 packed bytes at <paramref name="packed"/> as <c>[low nibbles | high nibbles]</c>: on AVX-512 one broadcast
    /// load, one <c>vpsrlvw</c> (by 0 in the lower half, 4 in the upper) and one and; elsewhere the two halves on AVX2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<byte> SplitNibbles(byte* packed) => SplitNibbles(packed, NibbleShifts());

    /// <summary>The per-lane shifts <see cref="SplitNibbles(byte*, Vector512{ushort})"/> takes: 0 in the lower half, 4 in the upper.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ushort> NibbleShifts() =>
        Vector512.Create(0UL, 0, 0, 0, 0x0004000400040004, 0x0004000400040004, 0x0004000400040004, 0x0004000400040004).AsUInt16();

    /// <summary><see cref="SplitNibbles(byte*)"/> with its shifts (<see cref="NibbleShifts"/>) made once, outside a loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<byte> SplitNibbles(byte* packed, Vector512<ushort> shifts)
    {
        var mask = Vector512.Create((byte)0x0F);
        if (Avx512BW.IsSupported)
        {
            var both = Avx512F.BroadcastVector256ToVector512((ulong*)packed).AsUInt16();
            return Avx512BW.ShiftRightLogicalVariable(both, shifts).AsByte() & mask;
        }

        var bytes = Vector256.Load(packed);
        return Vector512.Create(bytes, Avx2.ShiftRightLogical(bytes.AsUInt16(), 4).AsByte()) & mask;
    }

    /// <summary>8 int16 (a K-quant's sub-block scales) in each of the four 128-bit lanes, as bytes for <see cref="ShuffleInLanes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> InAllLanes(Vector128<short> scales)
    {
        if (Avx512F.IsSupported)
        {
            var wide = scales.ToVector256Unsafe().ToVector512Unsafe().AsInt32();
            return Avx512F.Shuffle4x128(wide, wide, 0).AsByte();
        }

        var two = Vector256.Create(scales, scales);
        return Vector512.Create(two, two).AsByte();
    }
}
