using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// ggml type F16: IEEE 754 binary16, little-endian, 2 bytes per element, no blocks. Also the element type
/// of an F16 KV cache and of every block scale in the quant formats.
/// </summary>
/// <remarks>
/// .NET exposes no F16C conversion instruction, so the vector paths convert with integer arithmetic:
/// half → float shifts the exponent and mantissa into place and multiplies by 2^112 (exact, including
/// subnormals); float → half rounds to nearest even (the F. Giesen method). Both are bit-exact with
/// <see cref="Half"/>'s conversions for every non-NaN value; NaN stays NaN.
/// </remarks>
internal static partial class RowF16
{
    private const uint TwoPow112Bits = 0x77800000;

    /// <summary>Scalar reference: widens each half to float.</summary>
    public static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var halves = MemoryMarshal.Cast<byte, Half>(src);
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = (float)halves[i];
        }
    }

    /// <summary>
    /// Widens halves to floats on the widest allowed vectors. With AVX2 and a multiple of 16 halves it first tries the
    /// finite-only widening (<see cref="TryWidenFinite"/>; weights are finite), which the GEMM's row dequantization
    /// (F16 weights, 4 tokens or more) takes: 7.0 → 4.7 ns per 32 halves (dq harness, one core).
    /// </summary>
    public static unsafe void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdWidth width)
    {
        int n = dst.Length;
        if (width >= SimdWidth.V256 && n % 16 == 0 && src.Length >= n * sizeof(ushort))
        {
            fixed (byte* h = src)
            fixed (float* f = dst)
            {
                if (TryWidenFinite((ushort*)h, f, n))
                {
                    return;
                }
            }
        }

        ref ushort s = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(src));
        ref float d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                var h = Vector256.LoadUnsafe(ref s, (nuint)i);
                ToSingle(Vector256.WidenLower(h)).StoreUnsafe(ref d, (nuint)i);
                ToSingle(Vector256.WidenUpper(h)).StoreUnsafe(ref d, (nuint)(i + 8));
            }
        }

        if (width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                var h = Vector128.LoadUnsafe(ref s, (nuint)i);
                ToSingle(Vector128.WidenLower(h)).StoreUnsafe(ref d, (nuint)i);
                ToSingle(Vector128.WidenUpper(h)).StoreUnsafe(ref d, (nuint)(i + 4));
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) = (float)BitConverter.UInt16BitsToHalf(Unsafe.Add(ref s, i));
        }
    }

    /// <summary>
    /// Widens <paramref name="count"/> halves (a multiple of 16) to floats with AVX2 where none of them is an infinity
    /// or a NaN, in about two thirds of <see cref="Dequantize"/>'s instructions: the exponent-31 lane fix-up is left out
    /// and one compare per 16 halves says whether it was needed. Returns false (with <paramref name="dst"/> partly
    /// written) if it was or if AVX2 is missing; the caller then widens with <see cref="Dequantize"/>.
    /// </summary>
    /// <remarks>
    /// For the attention's KV tiles, which are widened afresh at every decode step. The unpacks interleave within 128-bit
    /// lanes, so the 16 halves' 64-bit quarters are first put in the order 0, 2, 1, 3: the low unpack then gives halves
    /// 0–7 and the high one 8–15, in order.
    /// </remarks>
    public static unsafe bool TryWidenFinite(ushort* src, float* dst, int count)
    {
        if (Avx512F.IsSupported)
        {
            return TryWidenFinite512(src, dst, count);
        }

        if (!Avx2.IsSupported)
        {
            return false;
        }

        var magnitudeMask = Vector256.Create((ushort)0x7FFF);
        var signMask = Vector256.Create((ushort)0x8000);
        var largestFinite = Vector256.Create((short)0x7BFF);
        var scale = Vector256.Create(BitConverter.UInt32BitsToSingle(TwoPow112Bits));
        var special = Vector256<short>.Zero;
        for (int i = 0; i < count; i += 16)
        {
            var h = Avx2.Permute4x64(Vector256.Load(src + i).AsUInt64(), 0b11_01_10_00).AsUInt16();
            var magnitude = h & magnitudeMask;
            var sign = h & signMask;
            special |= Avx2.CompareGreaterThan(magnitude.AsInt16(), largestFinite);
            var low = (Avx2.UnpackLow(magnitude, Vector256<ushort>.Zero).AsUInt32() << 13).AsSingle() * scale;
            var high = (Avx2.UnpackHigh(magnitude, Vector256<ushort>.Zero).AsUInt32() << 13).AsSingle() * scale;
            (low.AsUInt32() | Avx2.UnpackLow(Vector256<ushort>.Zero, sign).AsUInt32()).AsSingle().Store(dst + i);
            (high.AsUInt32() | Avx2.UnpackHigh(Vector256<ushort>.Zero, sign).AsUInt32()).AsSingle().Store(dst + i + 8);
        }

        return special == Vector256<short>.Zero;
    }

    /// <summary>
    /// <see cref="TryWidenFinite"/> on AVX-512 (the same bits): 16 halves zero-extended to 32-bit lanes in one
    /// <c>vpmovzxwd</c>, so no lane reordering and no unpacks; about 8 instructions per 16 halves against 14. It is
    /// most of an F16 product's row dequantization, which at 16 tokens took as long as the GEMM kernel itself (perf,
    /// kbench, F16 5632 × 2048, 16 tokens: 44 % of the samples against the kernel's 36 %).
    /// </summary>
    private static unsafe bool TryWidenFinite512(ushort* src, float* dst, int count)
    {
        // The largest magnitude seen (in place, shifted by 13) decides at the end whether an infinity or NaN was among
        // them: one vpmaxud per vector instead of a compare, a mask widening and an or.
        var magnitudeBits = Vector512.Create(0x7FFFu << 13);
        var signBit = Vector512.Create(0x80000000u);
        var scale = Vector512.Create(BitConverter.UInt32BitsToSingle(TwoPow112Bits));
        var largest = Vector512<uint>.Zero;
        for (int i = 0; i < count; i += 16)
        {
            var h = Avx512F.ConvertToVector512UInt32(Vector256.Load(src + i));
            var bits = (h << 13) & magnitudeBits;
            largest = Vector512.Max(largest, bits);
            ((bits.AsSingle() * scale).AsUInt32() | ((h << 16) & signBit)).AsSingle().Store(dst + i);
        }

        return Vector512.LessThanOrEqualAll(largest, Vector512.Create(0x7BFFu << 13));
    }

    /// <summary>Scalar reference: rounds each float to the nearest half (ties to even).</summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var halves = MemoryMarshal.Cast<byte, ushort>(dst);
        for (int i = 0; i < src.Length; i++)
        {
            halves[i] = BitConverter.HalfToUInt16Bits((Half)src[i]);
        }
    }

    /// <summary>Rounds floats to halves on the widest allowed vectors (bit-exact with the reference).</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst, SimdWidth width)
    {
        int n = src.Length;
        ref float s = ref MemoryMarshal.GetReference(src);
        ref ushort d = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(dst));
        int i = 0;
        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                var lo = FromSingle(Vector256.LoadUnsafe(ref s, (nuint)i));
                var hi = FromSingle(Vector256.LoadUnsafe(ref s, (nuint)(i + 8)));
                Vector256.Narrow(lo, hi).StoreUnsafe(ref d, (nuint)i);
            }
        }

        if (width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                var lo = FromSingle(Vector128.LoadUnsafe(ref s, (nuint)i));
                var hi = FromSingle(Vector128.LoadUnsafe(ref s, (nuint)(i + 4)));
                Vector128.Narrow(lo, hi).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) = BitConverter.HalfToUInt16Bits((Half)Unsafe.Add(ref s, i));
        }
    }

    /// <summary>Scalar reference dot product.</summary>
    public static float DotReference(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        var halves = MemoryMarshal.Cast<byte, Half>(row);
        float sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += (float)halves[i] * x[i];
        }

        return sum;
    }

    /// <summary>
    /// The factor <see cref="TryPrescale"/> multiplies activations by: 2^112, the difference between a float's exponent
    /// bias and a half's, so that a half's bits shifted into a float (its value times 2^-112) can meet them unscaled.
    /// </summary>
    public const float PrescaleFactor = 5.192296858534828e33f;

    /// <summary>
    /// Writes <c>x · 2^112</c> to <paramref name="scaled"/> for <see cref="DotPrescaled"/>; false (nothing usable
    /// written) when some |x| is 2^16 or more, infinite or NaN, where the scaled value would overflow.
    /// </summary>
    public static bool TryPrescale(ReadOnlySpan<float> x, Span<float> scaled)
    {
        int n = x.Length;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float sr = ref MemoryMarshal.GetReference(scaled);
        var limit = Vector128.Create(65536f);
        int i = 0;
        for (; i <= n - 4; i += 4)
        {
            var v = Vector128.LoadUnsafe(ref xr, (nuint)i);
            if (!Vector128.LessThanAll(Vector128.Abs(v), limit))
            {
                return false;
            }

            (v * PrescaleFactor).StoreUnsafe(ref sr, (nuint)i);
        }

        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref xr, i);
            if (!(MathF.Abs(v) < 65536f))
            {
                return false;
            }

            Unsafe.Add(ref sr, i) = v * PrescaleFactor;
        }

        return true;
    }

    /// <summary>
    /// <see cref="Dot"/> with activations prescaled by <see cref="TryPrescale"/> (AVX2 only; callers check
    /// <see cref="Avx2.IsSupported"/>): a half widens to its value times 2^-112 in three instructions (sign-extending
    /// load, shift, mask) instead of <see cref="ToSingle(Vector256{uint})"/>'s nine, and meets <c>x · 2^112</c>, so
    /// every fused multiply-add gets the same exact product as in <see cref="Dot"/> and the sum is bit-identical
    /// (same accumulation order). A row holding an infinite or NaN half (which this widening would turn into a large
    /// finite value) is recomputed by <see cref="Dot"/>.
    /// </summary>
    /// <param name="w">n halves.</param>
    /// <param name="xScaled">n activations times 2^112.</param>
    /// <param name="x">The same n activations unscaled (the scalar tail and the fallback).</param>
    /// <param name="n">Elements.</param>
    /// <param name="width">
    /// From <see cref="SimdWidth.V512"/> on, the bulk runs on Vector512 (in software where AVX-512 is missing, which
    /// is how the tests run it here): its two accumulators hold the four Vector256 accumulators' lanes in the same
    /// order, so the result is the same bits.
    /// </param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe float DotPrescaled(ushort* w, float* xScaled, float* x, int n, SimdWidth width)
    {
        // Sign-extended half h, shifted left 13: the sign lands on bit 31 (and 28-30, cleared by the mask), the
        // exponent and mantissa on bits 13-27, as a float's: value · 2^-112 exactly, subnormals included.
        var mask = Vector256.Create(unchecked((int)0x8FFFE000));
        var magnitude = Vector256.Create((ushort)0x7FFF);
        var largest = Vector256<ushort>.Zero;
        int i = 0;
        float sum = 0;
        if (n >= 16)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            var acc2 = Vector256<float>.Zero;
            var acc3 = Vector256<float>.Zero;
            if (width >= SimdWidth.V512 && n >= 32)
            {
                (acc0, acc1, acc2, acc3, largest) = DotPrescaled512(w, xScaled, n, ref i);
            }

            for (; i <= n - 32; i += 32)
            {
                Simd.PrefetchAhead(w + i, 32 * sizeof(ushort));
                largest = Avx2.Max(largest, Avx2.Max(Vector256.Load(w + i), Vector256.Load(w + i + 16)) & magnitude);
                var f0 = (Avx2.ConvertToVector256Int32((short*)(w + i)) << 13) & mask;
                var f1 = (Avx2.ConvertToVector256Int32((short*)(w + i + 8)) << 13) & mask;
                var f2 = (Avx2.ConvertToVector256Int32((short*)(w + i + 16)) << 13) & mask;
                var f3 = (Avx2.ConvertToVector256Int32((short*)(w + i + 24)) << 13) & mask;
                acc0 = Simd.MulAdd(f0.AsSingle(), Vector256.Load(xScaled + i), acc0);
                acc1 = Simd.MulAdd(f1.AsSingle(), Vector256.Load(xScaled + i + 8), acc1);
                acc2 = Simd.MulAdd(f2.AsSingle(), Vector256.Load(xScaled + i + 16), acc2);
                acc3 = Simd.MulAdd(f3.AsSingle(), Vector256.Load(xScaled + i + 24), acc3);
            }

            for (; i <= n - 16; i += 16)
            {
                largest = Avx2.Max(largest, Vector256.Load(w + i) & magnitude);
                var f0 = (Avx2.ConvertToVector256Int32((short*)(w + i)) << 13) & mask;
                var f1 = (Avx2.ConvertToVector256Int32((short*)(w + i + 8)) << 13) & mask;
                acc0 = Simd.MulAdd(f0.AsSingle(), Vector256.Load(xScaled + i), acc0);
                acc1 = Simd.MulAdd(f1.AsSingle(), Vector256.Load(xScaled + i + 8), acc1);
            }

            sum += Vector256.Sum((acc0 + acc2) + (acc1 + acc3));
        }

        if (n - i >= 8)
        {
            var mask128 = Vector128.Create(unchecked((int)0x8FFFE000));
            var acc0 = Vector128<float>.Zero;
            var acc1 = Vector128<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                largest = Avx2.Max(largest, Vector256.Create(Vector128.Load(w + i), Vector128<ushort>.Zero) & magnitude);
                var f0 = (Sse41.ConvertToVector128Int32((short*)(w + i)) << 13) & mask128;
                var f1 = (Sse41.ConvertToVector128Int32((short*)(w + i + 4)) << 13) & mask128;
                acc0 = Simd.MulAdd(f0.AsSingle(), Vector128.Load(xScaled + i), acc0);
                acc1 = Simd.MulAdd(f1.AsSingle(), Vector128.Load(xScaled + i + 4), acc1);
            }

            sum += Vector128.Sum(acc0 + acc1);
        }

        if (Vector256.GreaterThanAny(largest, Vector256.Create((ushort)0x7BFF)))
        {
            return Dot(new ReadOnlySpan<byte>(w, 2 * n), new ReadOnlySpan<float>(x, n), SimdWidth.V256);
        }

        for (; i < n; i++)
        {
            sum += (float)BitConverter.UInt16BitsToHalf(w[i]) * x[i];
        }

        return sum;
    }

    /// <summary>
    /// <see cref="DotPrescaled"/> of one row with two tokens at once: each 8 halves are widened once for both, and each
    /// token's arithmetic (accumulators, order of the sums, tails, the fallback for rows with an infinity or NaN) is the
    /// one it gets alone, so the results are bit-identical to two <see cref="DotPrescaled"/> calls. Batched F16 decode
    /// of two and three sequences goes through it.
    /// </summary>
    /// <param name="w">The row's n halves.</param>
    /// <param name="xScaled0">Token 0 times 2^112 (<see cref="TryPrescale"/>).</param>
    /// <param name="x0">Token 0 as is (for the fallback and the scalar tail).</param>
    /// <param name="xScaled1">Token 1 times 2^112.</param>
    /// <param name="x1">Token 1 as is.</param>
    /// <param name="n">Elements.</param>
    /// <param name="width">SIMD width: at <see cref="SimdWidth.V512"/> the two tokens go through <see cref="DotPrescaled"/> one at a time.</param>
    /// <param name="result0">Token 0's dot.</param>
    /// <param name="result1">Token 1's dot.</param>
    public static unsafe void DotPrescaled2(
        ushort* w, float* xScaled0, float* x0, float* xScaled1, float* x1, int n, SimdWidth width, out float result0, out float result1)
    {
        if (width >= SimdWidth.V512 && n >= 32)
        {
            result0 = DotPrescaled(w, xScaled0, x0, n, width);
            result1 = DotPrescaled(w, xScaled1, x1, n, width);
            return;
        }

        var mask = Vector256.Create(unchecked((int)0x8FFFE000));
        var magnitude = Vector256.Create((ushort)0x7FFF);
        var largest = Vector256<ushort>.Zero;
        int i = 0;
        float sum0 = 0;
        float sum1 = 0;
        if (n >= 16)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            for (; i <= n - 32; i += 32)
            {
                Simd.PrefetchAhead(w + i, 32 * sizeof(ushort));
                largest = Avx2.Max(largest, Avx2.Max(Vector256.Load(w + i), Vector256.Load(w + i + 16)) & magnitude);
                var f0 = ((Avx2.ConvertToVector256Int32((short*)(w + i)) << 13) & mask).AsSingle();
                var f1 = ((Avx2.ConvertToVector256Int32((short*)(w + i + 8)) << 13) & mask).AsSingle();
                var f2 = ((Avx2.ConvertToVector256Int32((short*)(w + i + 16)) << 13) & mask).AsSingle();
                var f3 = ((Avx2.ConvertToVector256Int32((short*)(w + i + 24)) << 13) & mask).AsSingle();
                a0 = Simd.MulAdd(f0, Vector256.Load(xScaled0 + i), a0);
                a1 = Simd.MulAdd(f1, Vector256.Load(xScaled0 + i + 8), a1);
                a2 = Simd.MulAdd(f2, Vector256.Load(xScaled0 + i + 16), a2);
                a3 = Simd.MulAdd(f3, Vector256.Load(xScaled0 + i + 24), a3);
                b0 = Simd.MulAdd(f0, Vector256.Load(xScaled1 + i), b0);
                b1 = Simd.MulAdd(f1, Vector256.Load(xScaled1 + i + 8), b1);
                b2 = Simd.MulAdd(f2, Vector256.Load(xScaled1 + i + 16), b2);
                b3 = Simd.MulAdd(f3, Vector256.Load(xScaled1 + i + 24), b3);
            }

            for (; i <= n - 16; i += 16)
            {
                largest = Avx2.Max(largest, Vector256.Load(w + i) & magnitude);
                var f0 = ((Avx2.ConvertToVector256Int32((short*)(w + i)) << 13) & mask).AsSingle();
                var f1 = ((Avx2.ConvertToVector256Int32((short*)(w + i + 8)) << 13) & mask).AsSingle();
                a0 = Simd.MulAdd(f0, Vector256.Load(xScaled0 + i), a0);
                a1 = Simd.MulAdd(f1, Vector256.Load(xScaled0 + i + 8), a1);
                b0 = Simd.MulAdd(f0, Vector256.Load(xScaled1 + i), b0);
                b1 = Simd.MulAdd(f1, Vector256.Load(xScaled1 + i + 8), b1);
            }

            sum0 += Vector256.Sum((a0 + a2) + (a1 + a3));
            sum1 += Vector256.Sum((b0 + b2) + (b1 + b3));
        }

        if (n - i >= 8)
        {
            var mask128 = Vector128.Create(unchecked((int)0x8FFFE000));
            Vector128<float> a0 = default, a1 = default, b0 = default, b1 = default;
            for (; i <= n - 8; i += 8)
            {
                largest = Avx2.Max(largest, Vector256.Create(Vector128.Load(w + i), Vector128<ushort>.Zero) & magnitude);
                var f0 = ((Sse41.ConvertToVector128Int32((short*)(w + i)) << 13) & mask128).AsSingle();
                var f1 = ((Sse41.ConvertToVector128Int32((short*)(w + i + 4)) << 13) & mask128).AsSingle();
                a0 = Simd.MulAdd(f0, Vector128.Load(xScaled0 + i), a0);
                a1 = Simd.MulAdd(f1, Vector128.Load(xScaled0 + i + 4), a1);
                b0 = Simd.MulAdd(f0, Vector128.Load(xScaled1 + i), b0);
                b1 = Simd.MulAdd(f1, Vector128.Load(xScaled1 + i + 4), b1);
            }

            sum0 += Vector128.Sum(a0 + a1);
            sum1 += Vector128.Sum(b0 + b1);
        }

        if (Vector256.GreaterThanAny(largest, Vector256.Create((ushort)0x7BFF)))
        {
            result0 = Dot(new ReadOnlySpan<byte>(w, 2 * n), new ReadOnlySpan<float>(x0, n), SimdWidth.V256);
            result1 = Dot(new ReadOnlySpan<byte>(w, 2 * n), new ReadOnlySpan<float>(x1, n), SimdWidth.V256);
            return;
        }

        for (; i < n; i++)
        {
            float h = (float)BitConverter.UInt16BitsToHalf(w[i]);
            sum0 += h * x0[i];
            sum1 += h * x1[i];
        }

        result0 = sum0;
        result1 = sum1;
    }

    /// <summary>
    /// The 32-halves-at-a-time loop of <see cref="DotPrescaled"/> on Vector512, from <paramref name="i"/> (advanced
    /// past what it did): returns the four Vector256 accumulators that loop would hold (lanes 0–7 and 8–15 of the
    /// first 512-bit accumulator are its acc0 and acc1, those of the second its acc2 and acc3) and the largest
    /// magnitude seen.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<ushort>) DotPrescaled512(
        ushort* w, float* xScaled, int n, ref int i)
    {
        var mask = Vector512.Create(unchecked((int)0x8FFFE000));
        var magnitude = Vector512.Create((ushort)0x7FFF);
        var largest = Vector512<ushort>.Zero;
        var lo = Vector512<float>.Zero;
        var hi = Vector512<float>.Zero;
        for (; i <= n - 32; i += 32)
        {
            Simd.PrefetchAhead(w + i, 32 * sizeof(ushort));
            var h = Vector512.Load(w + i);
            largest = Vector512.Max(largest, h & magnitude);
            var f0 = (Vector512.WidenLower(h.AsInt16()) << 13) & mask;
            var f1 = (Vector512.WidenUpper(h.AsInt16()) << 13) & mask;
            lo = Simd.MulAdd(f0.AsSingle(), Vector512.Load(xScaled + i), lo);
            hi = Simd.MulAdd(f1.AsSingle(), Vector512.Load(xScaled + i + 16), hi);
        }

        return (lo.GetLower(), lo.GetUpper(), hi.GetLower(), hi.GetUpper(), Vector256.Max(largest.GetLower(), largest.GetUpper()));
    }

    /// <summary>Dot product, converting halves on the fly on the widest allowed vectors.</summary>
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<float> x, SimdWidth width)
    {
        int n = x.Length;
        ref ushort w = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(row));
        ref float xr = ref MemoryMarshal.GetReference(x);
        int i = 0;
        float sum = 0;
        if (width >= SimdWidth.V256 && Vector256.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            var acc2 = Vector256<float>.Zero;
            var acc3 = Vector256<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var h = Vector256.LoadUnsafe(ref w, (nuint)i);
                var h2 = Vector256.LoadUnsafe(ref w, (nuint)(i + 16));
                acc0 = Simd.MulAdd(ToSingle(Vector256.WidenLower(h)), Vector256.LoadUnsafe(ref xr, (nuint)i), acc0);
                acc1 = Simd.MulAdd(ToSingle(Vector256.WidenUpper(h)), Vector256.LoadUnsafe(ref xr, (nuint)(i + 8)), acc1);
                acc2 = Simd.MulAdd(ToSingle(Vector256.WidenLower(h2)), Vector256.LoadUnsafe(ref xr, (nuint)(i + 16)), acc2);
                acc3 = Simd.MulAdd(ToSingle(Vector256.WidenUpper(h2)), Vector256.LoadUnsafe(ref xr, (nuint)(i + 24)), acc3);
            }

            for (; i <= n - 16; i += 16)
            {
                var h = Vector256.LoadUnsafe(ref w, (nuint)i);
                acc0 = Simd.MulAdd(ToSingle(Vector256.WidenLower(h)), Vector256.LoadUnsafe(ref xr, (nuint)i), acc0);
                acc1 = Simd.MulAdd(ToSingle(Vector256.WidenUpper(h)), Vector256.LoadUnsafe(ref xr, (nuint)(i + 8)), acc1);
            }

            sum += Vector256.Sum((acc0 + acc2) + (acc1 + acc3));
        }

        if (width >= SimdWidth.V128 && Vector128.IsHardwareAccelerated && n - i >= 8)
        {
            var acc0 = Vector128<float>.Zero;
            var acc1 = Vector128<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var h = Vector128.LoadUnsafe(ref w, (nuint)i);
                acc0 = Simd.MulAdd(ToSingle(Vector128.WidenLower(h)), Vector128.LoadUnsafe(ref xr, (nuint)i), acc0);
                acc1 = Simd.MulAdd(ToSingle(Vector128.WidenUpper(h)), Vector128.LoadUnsafe(ref xr, (nuint)(i + 4)), acc1);
            }

            sum += Vector128.Sum(acc0 + acc1);
        }

        for (; i < n; i++)
        {
            sum += (float)BitConverter.UInt16BitsToHalf(Unsafe.Add(ref w, i)) * Unsafe.Add(ref xr, i);
        }

        return sum;
    }

    /// <summary>A half's exponent and mantissa shifted into a float's place plus this are the float (normal halves).</summary>
    private const uint RebiasBits = (127 - 15) << 23;

    /// <summary>2^-14, the smallest normal half.</summary>
    private const float TwoPowMinus14 = 6.1035156e-05f;

    /// <summary>
    /// Widens 8 halves (the low 16 bits of each lane) to floats, exactly, with no float arithmetic on a subnormal: a
    /// normal half's exponent is rebiased by an integer add; a zero or subnormal half (m · 2^-24) becomes the normal
    /// float <c>2^-14 · (1 + m/1024)</c> minus <c>2^-14</c>, both operands normal.
    /// </summary>
    /// <remarks>
    /// Why not the shorter "shift into a float and multiply by 2^112": for a subnormal half that multiplies a subnormal
    /// float, which costs a microcode assist of about a hundred cycles on the Zen 3 development machine. Real files
    /// have such scales: ggml's K-quant and IQ4 block scales are about max|w| / 1000 to / 4000, below 2^-14 for
    /// weights of the usual scale (std 0.02). Two threads, 5632 × 2048 rows streamed from memory, every scale subnormal
    /// against none (scratch harness, the old widening in <see cref="QuantSimd.ReadHalf(ref byte)"/>): IQ4_XS 6.4–8.0
    /// against 13–15 GB/s, Q4_K 8.2–9.1 against 15–17; L IQ4_XS decode 13.1 tokens/s against Q4_K_M's 17–22.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToSingle(Vector256<uint> half)
    {
        var sign = (half & Vector256.Create(0x8000u)) << 16;
        var magnitude = half & Vector256.Create(0x7FFFu);
        var shifted = magnitude << 13;
        var normal = shifted + Vector256.Create(RebiasBits);
        var small = ((normal + Vector256.Create(0x00800000u)).AsSingle() - Vector256.Create(TwoPowMinus14)).AsUInt32();
        var isSmall = Vector256.LessThan(magnitude.AsInt32(), Vector256.Create(0x0400)).AsUInt32();
        var infOrNan = shifted | Vector256.Create(0x7F800000u);
        var isInfOrNan = Vector256.GreaterThan(magnitude.AsInt32(), Vector256.Create(0x7BFF)).AsUInt32();
        return (Vector256.ConditionalSelect(isInfOrNan, infOrNan, Vector256.ConditionalSelect(isSmall, small, normal)) | sign).AsSingle();
    }

    /// <summary>Widens 4 halves (the low 16 bits of each lane) to floats, exactly (as <see cref="ToSingle(Vector256{uint})"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ToSingle(Vector128<uint> half)
    {
        var sign = (half & Vector128.Create(0x8000u)) << 16;
        var magnitude = half & Vector128.Create(0x7FFFu);
        var shifted = magnitude << 13;
        var normal = shifted + Vector128.Create(RebiasBits);
        var small = ((normal + Vector128.Create(0x00800000u)).AsSingle() - Vector128.Create(TwoPowMinus14)).AsUInt32();
        var isSmall = Vector128.LessThan(magnitude.AsInt32(), Vector128.Create(0x0400)).AsUInt32();
        var infOrNan = shifted | Vector128.Create(0x7F800000u);
        var isInfOrNan = Vector128.GreaterThan(magnitude.AsInt32(), Vector128.Create(0x7BFF)).AsUInt32();
        return (Vector128.ConditionalSelect(isInfOrNan, infOrNan, Vector128.ConditionalSelect(isSmall, small, normal)) | sign).AsSingle();
    }

    /// <summary>Rounds 8 floats to halves (ties to even); the half bits are in the low 16 bits of each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> FromSingle(Vector256<float> value)
    {
        var bits = value.AsUInt32();
        var sign = bits & Vector256.Create(0x80000000u);
        var magnitude = bits ^ sign;

        // |x| ≥ 65536 (or Inf/NaN): infinity, or a quiet NaN.
        var isLarge = Vector256.GreaterThan(magnitude.AsInt32(), Vector256.Create(0x477FFFFF)).AsUInt32();
        var isNan = Vector256.GreaterThan(magnitude.AsInt32(), Vector256.Create(0x7F800000)).AsUInt32();
        var large = Vector256.ConditionalSelect(isNan, Vector256.Create(0x7E00u), Vector256.Create(0x7C00u));

        // |x| < 2^-14: a half subnormal. Adding 0.5f puts the half's subnormal unit at the float's last
        // mantissa bit, so the float adder does the round-to-nearest-even.
        var isSmall = Vector256.LessThan(magnitude.AsInt32(), Vector256.Create(0x38800000)).AsUInt32();
        var small = (magnitude.AsSingle() + Vector256.Create(0.5f)).AsUInt32() - Vector256.Create(0x3F000000u);

        // Normal: rebias the exponent, add half an ulp minus one plus the odd bit (ties to even), shift.
        var odd = (magnitude >> 13) & Vector256<uint>.One;
        var normal = (magnitude + Vector256.Create(0xC8000FFFu) + odd) >> 13;

        var result = Vector256.ConditionalSelect(isLarge, large, Vector256.ConditionalSelect(isSmall, small, normal));
        return result | (sign >> 16);
    }

    /// <summary>Rounds 4 floats to halves (ties to even); the half bits are in the low 16 bits of each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> FromSingle(Vector128<float> value)
    {
        var bits = value.AsUInt32();
        var sign = bits & Vector128.Create(0x80000000u);
        var magnitude = bits ^ sign;
        var isLarge = Vector128.GreaterThan(magnitude.AsInt32(), Vector128.Create(0x477FFFFF)).AsUInt32();
        var isNan = Vector128.GreaterThan(magnitude.AsInt32(), Vector128.Create(0x7F800000)).AsUInt32();
        var large = Vector128.ConditionalSelect(isNan, Vector128.Create(0x7E00u), Vector128.Create(0x7C00u));
        var isSmall = Vector128.LessThan(magnitude.AsInt32(), Vector128.Create(0x38800000)).AsUInt32();
        var small = (magnitude.AsSingle() + Vector128.Create(0.5f)).AsUInt32() - Vector128.Create(0x3F000000u);
        var odd = (magnitude >> 13) & Vector128<uint>.One;
        var normal = (magnitude + Vector128.Create(0xC8000FFFu) + odd) >> 13;
        var result = Vector128.ConditionalSelect(isLarge, large, Vector128.ConditionalSelect(isSmall, small, normal));
        return result | (sign >> 16);
    }
}
