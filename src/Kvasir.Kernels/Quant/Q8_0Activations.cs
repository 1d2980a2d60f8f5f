using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>How a weight type whose blocks pair with Q8_0 activations (Q4_0, Q5_0, Q8_0) reads one block.</summary>
internal interface IQ8_0Weights
{
    /// <summary>Bytes per 32-element block; the block starts with its fp16 scale.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>
    /// log2 of the offset the stored values carry (Q4_0: 3, value = q − 8; Q5_0: 4, q − 16), or −1 for signed
    /// values (Q8_0).
    /// </summary>
    static abstract int OffsetShift { get; }

    /// <summary>
    /// The block's 32 values as bytes: the unsigned stored q (0 ≤ q &lt; 2^(OffsetShift + 1)) when the type has an
    /// offset, else the signed values; scale not applied.
    /// </summary>
    static abstract Vector256<byte> Unpack(ref byte block);
}

/// <summary>
/// Activations of the integer MatMul path for Q4_0, Q5_0 and Q8_0 weights: one token's row quantized to Q8_0
/// blocks, followed by each block's scale widened to a float.
/// <code>
/// offset 0:            block_q8_0[blocks]   (34 bytes each: fp16 d, int8 qs[32]) — ggml's layout, same rounding
/// offset 34 · blocks:  float d[blocks]       (the same d, widened once here instead of once per weight row)
/// offset 38 · blocks:  int32 sum[blocks]     (Σ qs of the block: the offset of Q4_0/Q5_0 weights, applied once per block)
/// </code>
/// </summary>
/// <remarks>
/// Widening an activation half for every block of every weight row cost as much as the integer products
/// themselves: one core, rows in cache, Q8_0 × Q8_0 went from 2.58 to 1.87 ns per block (kb3 harness) with the
/// float scales and the four-block sum below. With the block sums, Q4_0 and Q5_0 weights enter vpmaddubsw as
/// the unsigned values they are stored as (Σ (q − 8)·a = Σ q·a − 8·Σ a), which saves the sign moves.
/// </remarks>
internal static partial class Q8_0Activations
{
    /// <summary>Bytes of one token's activations for <paramref name="blocks"/> blocks of 32.</summary>
    public static long RowBytes(int blocks) => (long)blocks * (BlockQ8_0.BlockBytes + sizeof(float) + sizeof(int));

    /// <summary>Quantizes <paramref name="x"/> (a multiple of 32 floats) into <paramref name="dst"/> (<see cref="RowBytes"/>).</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> dst)
    {
        int blocks = x.Length / BlockQ8_0.BlockSize;
        QuantizeBlocks(x, dst, 0, blocks);
    }

    /// <summary>
    /// Blocks <paramref name="first"/>..<paramref name="end"/> − 1 of <see cref="Quantize"/>: the same bytes in the same
    /// places of the whole row <paramref name="dst"/> (<see cref="RowBytes"/> of x's blocks), so that threads can
    /// quantize one token's row in parts.
    /// </summary>
    public static void QuantizeBlocks(ReadOnlySpan<float> x, Span<byte> dst, int first, int end)
    {
        int blocks = x.Length / BlockQ8_0.BlockSize;
        int quantBytes = blocks * BlockQ8_0.BlockBytes;
        // BlockQ8_0's quantizer itself (Quantize.Row's Q8_0 case): called per token and block range, the row entry's
        // checks and traits lookup were 1 % of a 16-sequence S Q8_0 step's samples.
        BlockQ8_0.Quantize(
            x[(first * BlockQ8_0.BlockSize)..(end * BlockQ8_0.BlockSize)],
            dst[(first * BlockQ8_0.BlockBytes)..(end * BlockQ8_0.BlockBytes)],
            Simd.Best);
        var scales = MemoryMarshal.Cast<byte, float>(dst.Slice(quantBytes, blocks * sizeof(float)));
        var sums = MemoryMarshal.Cast<byte, int>(dst.Slice(quantBytes + (blocks * sizeof(float)), blocks * sizeof(int)));
        for (int b = first; b < end; b++)
        {
            scales[b] = QuantSimd.ReadHalf(dst, b * BlockQ8_0.BlockBytes);
            sums[b] = QuantSum(dst.Slice((b * BlockQ8_0.BlockBytes) + 2, BlockQ8_0.BlockSize));
        }
    }

    /// <summary>Σ of the signed bytes of <paramref name="qs"/>, 16 or 32 of them (exact: at most 32 · 128 in size).</summary>
    public static int QuantSum(ReadOnlySpan<byte> qs)
    {
        if (Vector128.IsHardwareAccelerated && qs.Length is 16 or 32)
        {
            var v = Vector128.Create(MemoryMarshal.Cast<byte, sbyte>(qs));
            var wide = Vector128.WidenLower(v) + Vector128.WidenUpper(v);
            if (qs.Length == 32)
            {
                var w = Vector128.Create(MemoryMarshal.Cast<byte, sbyte>(qs[16..]));
                wide += Vector128.WidenLower(w) + Vector128.WidenUpper(w);
            }

            return Vector128.Sum(Vector128.WidenLower(wide) + Vector128.WidenUpper(wide));
        }

        int sum = 0;
        foreach (byte q in qs)
        {
            sum += (sbyte)q;
        }

        return sum;
    }

    /// <summary>
    /// Σ_b d_w[b] · d_a[b] · Σ_j q_w[b, j] · q_a[b, j] on AVX2 (callers check <see cref="Avx2.IsSupported"/>), with
    /// 512-bit integer products where <paramref name="width"/> allows (<see cref="Dot512{TWeights}"/>, bit-identical):
    /// four blocks' integer sums are folded into one vector by horizontal adds, converted once and multiplied by
    /// the four scale products at once.
    /// </summary>
    public static float Dot<TWeights>(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks, SimdWidth width)
        where TWeights : struct, IQ8_0Weights =>
        width >= SimdWidth.V512 ? Dot512<TWeights>(row, activations, blocks) : Dot256<TWeights>(row, activations, blocks);

    /// <summary>The AVX2 body of <see cref="Dot{TWeights}"/>.</summary>
    private static float Dot256<TWeights>(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks)
        where TWeights : struct, IQ8_0Weights
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref byte x = ref MemoryMarshal.GetReference(activations);
        ref float scales = ref Unsafe.As<byte, float>(ref Unsafe.Add(ref x, blocks * BlockQ8_0.BlockBytes));
        ref int sums = ref Unsafe.As<float, int>(ref Unsafe.Add(ref scales, blocks));
        int wb = TWeights.BlockBytes;
        const int ab = BlockQ8_0.BlockBytes;
        var acc = Vector256<float>.Zero;
        int b = 0;
        for (; b + 4 <= blocks; b += 4)
        {
            ref byte w = ref Unsafe.Add(ref r, b * wb);
            Simd.PrefetchAhead(ref w, 4 * TWeights.BlockBytes);
            ref byte a = ref Unsafe.Add(ref x, b * ab);
            var s0 = BlockSum<TWeights>(ref w, ref a);
            var s1 = BlockSum<TWeights>(ref Unsafe.Add(ref w, wb), ref Unsafe.Add(ref a, ab));
            var s2 = BlockSum<TWeights>(ref Unsafe.Add(ref w, 2 * wb), ref Unsafe.Add(ref a, 2 * ab));
            var s3 = BlockSum<TWeights>(ref Unsafe.Add(ref w, 3 * wb), ref Unsafe.Add(ref a, 3 * ab));
            var d = QuantSimd.ReadHalves4(ref w, wb) * Vector128.LoadUnsafe(ref Unsafe.Add(ref scales, b));
            acc = AccumulateFour<TWeights>(s0, s1, s2, s3, ref Unsafe.Add(ref sums, b), d, acc);
        }

        return Vector256.Sum(acc + BlockTail<TWeights>(ref r, ref x, b, blocks));
    }

    /// <summary>
    /// <see cref="Dot{TWeights}"/> of one row with four tokens at once (AVX2 only; 512-bit integer products where
    /// <paramref name="width"/> allows): each group of four weight blocks is unpacked (and its scales widened) once for
    /// the four tokens, and each token's arithmetic is the one it gets alone, so <c>results[t]</c> is bit-identical to
    /// <see cref="Dot{TWeights}"/> of token t (at either width).
    /// </summary>
    /// <param name="row">The weight row.</param>
    /// <param name="activations">Token 0's activations (<see cref="RowBytes"/>); token t's start t · <paramref name="stride"/> bytes later.</param>
    /// <param name="stride">Bytes from one token's activations to the next.</param>
    /// <param name="blocks">Blocks of 32 in the row.</param>
    /// <param name="results">Four floats: the dot with each token.</param>
    /// <param name="width">The widest vectors to use (<see cref="SimdWidth.V512"/>: <see cref="Dot4x512{TWeights}"/>).</param>
    public static unsafe void Dot4<TWeights>(byte* row, byte* activations, long stride, int blocks, float* results, SimdWidth width)
        where TWeights : struct, IQ8_0Weights
    {
        if (width >= SimdWidth.V512)
        {
            Dot4x512<TWeights>(row, activations, stride, blocks, results);
            return;
        }

        int wb = TWeights.BlockBytes;
        const int ab = BlockQ8_0.BlockBytes;
        long scalesAt = (long)blocks * ab;
        long sumsAt = scalesAt + ((long)blocks * sizeof(float));
        var acc = stackalloc Vector256<float>[4];
        for (int t = 0; t < 4; t++)
        {
            acc[t] = Vector256<float>.Zero;
        }

        int b = 0;
        for (; b + 4 <= blocks; b += 4)
        {
            byte* w = row + ((long)b * wb);
            var q0 = TWeights.Unpack(ref *w);
            var q1 = TWeights.Unpack(ref *(w + wb));
            var q2 = TWeights.Unpack(ref *(w + (2 * wb)));
            var q3 = TWeights.Unpack(ref *(w + (3 * wb)));
            var dw = QuantSimd.ReadHalves4(ref *w, wb);
            for (int t = 0; t < 4; t++)
            {
                byte* x = activations + (t * stride);
                byte* a = x + ((long)b * ab);
                var s0 = BlockSum<TWeights>(q0, a);
                var s1 = BlockSum<TWeights>(q1, a + ab);
                var s2 = BlockSum<TWeights>(q2, a + (2 * ab));
                var s3 = BlockSum<TWeights>(q3, a + (3 * ab));
                var d = dw * Vector128.Load((float*)(x + scalesAt) + b);
                acc[t] = AccumulateFour<TWeights>(s0, s1, s2, s3, ref *((int*)(x + sumsAt) + b), d, acc[t]);
            }
        }

        for (int t = 0; t < 4; t++)
        {
            results[t] = Vector256.Sum(acc[t] + BlockTail<TWeights>(ref *row, ref *(activations + (t * stride)), b, blocks));
        }
    }

    /// <summary>
    /// <c>acc + d · (four blocks' integer sums, the offset applied)</c>, the one step <see cref="Dot{TWeights}"/> and
    /// <see cref="Dot4{TWeights}"/> share (so their results stay bit-identical): lanes [s0 s1 s2 s3 | s0 s1 s2 s3] hold
    /// the low and high halves of each block's sum (|sum| ≤ 32·128·255, exact in float), and the offset's
    /// −2^shift · Σ a joins the low halves.
    /// </summary>
    /// <param name="s0">Block 0's integer sums (<see cref="BlockSum{TWeights}(Vector256{byte}, Vector256{sbyte})"/>).</param>
    /// <param name="s1">Block 1's.</param>
    /// <param name="s2">Block 2's.</param>
    /// <param name="s3">Block 3's.</param>
    /// <param name="sums">The activations' sum of block 0 (those of blocks 1–3 follow).</param>
    /// <param name="d">The four blocks' scale products d_w · d_a.</param>
    /// <param name="acc">The running sum.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AccumulateFour<TWeights>(
        Vector256<int> s0, Vector256<int> s1, Vector256<int> s2, Vector256<int> s3, ref int sums, Vector128<float> d, Vector256<float> acc)
        where TWeights : struct, IQ8_0Weights
    {
        return AccumulateFolded<TWeights>(Avx2.HorizontalAdd(Avx2.HorizontalAdd(s0, s1), Avx2.HorizontalAdd(s2, s3)), ref sums, d, acc);
    }

    /// <summary>
    /// The float step of <see cref="AccumulateFour{TWeights}"/> (and of its 512-bit twin) from the folded sums
    /// <c>[s0 s1 s2 s3 | s0 s1 s2 s3]</c> (low halves of the blocks, then high halves).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AccumulateFolded<TWeights>(Vector256<int> folded, ref int sums, Vector128<float> d, Vector256<float> acc)
        where TWeights : struct, IQ8_0Weights
    {
        if (TWeights.OffsetShift >= 0)
        {
            var offset = Vector128.LoadUnsafe(ref sums) << TWeights.OffsetShift;
            folded -= Vector256.Create(offset, Vector128<int>.Zero);
        }

        return Simd.MulAdd(Vector256.ConvertToSingle(folded), Vector256.Create(d, d), acc);
    }

    /// <summary>
    /// The blocks from <paramref name="from"/> to the end (fewer than four) of one token, one at a time: the block tail
    /// every dot product here shares (one-token and four-token, 256- and 512-bit), so their results stay bit-identical.
    /// </summary>
    /// <param name="row">The weight row.</param>
    /// <param name="x">The token's activations (<see cref="RowBytes"/>).</param>
    /// <param name="from">The first block of the tail.</param>
    /// <param name="blocks">Blocks of 32 in the row.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> BlockTail<TWeights>(ref byte row, ref byte x, int from, int blocks)
        where TWeights : struct, IQ8_0Weights
    {
        ref float scales = ref Unsafe.As<byte, float>(ref Unsafe.Add(ref x, blocks * BlockQ8_0.BlockBytes));
        ref int sums = ref Unsafe.As<float, int>(ref Unsafe.Add(ref scales, blocks));
        var tail = Vector256<float>.Zero;
        for (int b = from; b < blocks; b++)
        {
            ref byte w = ref Unsafe.Add(ref row, b * TWeights.BlockBytes);
            var sum = BlockSum<TWeights>(ref w, ref Unsafe.Add(ref x, b * BlockQ8_0.BlockBytes));
            if (TWeights.OffsetShift >= 0)
            {
                sum -= Vector256.CreateScalar(Unsafe.Add(ref sums, b) << TWeights.OffsetShift);
            }

            tail = Simd.MulAdd(Vector256.ConvertToSingle(sum), Vector256.Create(QuantSimd.ReadHalf(ref w) * Unsafe.Add(ref scales, b)), tail);
        }

        return tail;
    }

    /// <inheritdoc cref="BlockSum{TWeights}(ref byte, ref byte)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> BlockSum<TWeights>(Vector256<byte> q, byte* a)
        where TWeights : struct, IQ8_0Weights =>
        BlockSum<TWeights>(q, Vector256.Load((sbyte*)(a + 2)));

    /// <summary>Σ q · qa of one block (weights unpacked) as 8 int32 partial sums, the offset (if any) not yet applied.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum<TWeights>(Vector256<byte> q, Vector256<sbyte> qa)
        where TWeights : struct, IQ8_0Weights
    {
        return TWeights.OffsetShift >= 0
            ? Int8Simd.DotSum(q, qa)
            : QuantSimd.DotInt8(q.AsSByte(), qa);
    }

    /// <summary>Σ q_w · q_a of one block as 8 int32 partial sums, the offset (if any) not yet applied.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum<TWeights>(ref byte w, ref byte a)
        where TWeights : struct, IQ8_0Weights
    {
        var q = TWeights.Unpack(ref w);
        var qa = Vector256.LoadUnsafe(ref Unsafe.Add(ref a, 2)).AsSByte();
        return BlockSum<TWeights>(q, qa);
    }
}
