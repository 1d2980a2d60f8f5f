using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The AVX2 integer dots of the Q4_K family (Q4_K, Q5_K) over a chunk source (<see cref="IKChunks256"/>): one token
/// (<see cref="DotQ8_K256{TChunks}"/>, the decode kernel) and eight tokens per pass over a row
/// (<see cref="DotQ8_K8{TChunks}"/>, the prefill and batched-decode kernel of the integer path). Each token's
/// arithmetic in the eight-token body is the single-token body's, so results are bit-identical to one token at a time.
/// </summary>
/// <remarks>
/// <code>
/// per super-block:  scales/mins unpacked once                                 (shared by the 8 tokens)
///   chunk c (0..3): w = 32 packed bytes → low, high nibbles                    (shared)
///                   sc[2c], sc[2c+1] broadcast by a shuffle with a constant    (shared)
///                   token t: sumi[t] += vpmaddwd(vpmaddubsw(low, a_t), sc) + (high, sc')   (6 instructions)
///   token t:        acc[t] += float(sumi[t]) · d·d_t;  mins[t] += float(m · pairs_t) · dmin·d_t
/// </code>
/// Eight int32 accumulators, the two nibble vectors and the two scale vectors fill the 16 ymm registers; the float
/// accumulators live on the stack (a load and a store per token and super-block). The four-token kernel
/// (<see cref="DotQ8_K4"/>) spends half its instructions on work shared by its tokens; at eight, a chunk is 53
/// instructions for 512 multiply-adds of which 32 are the products themselves.
/// </remarks>
internal static partial class BlockQ4_K
{
    /// <summary>
    /// <see cref="DotQ8_K"/> of one row with eight tokens at once: <c>results[t]</c> is bit-identical to
    /// <see cref="DotQ8_K"/> of token t. AVX2 only; with <see cref="SimdWidth.V512"/>, two passes of
    /// <see cref="DotQ8_K4"/>'s 512-bit body.
    /// </summary>
    /// <param name="row">The weight row's super-blocks.</param>
    /// <param name="activations">Token 0's <see cref="Q8_KActivations"/> row; token t's starts t · <paramref name="stride"/> bytes later.</param>
    /// <param name="stride">Bytes from one token's activations to the next.</param>
    /// <param name="blocks">Super-blocks in the row.</param>
    /// <param name="results">Eight floats: the dot with each token.</param>
    /// <param name="width">The widest vectors to use.</param>
    public static unsafe void DotQ8_K8(byte* row, byte* activations, long stride, int blocks, float* results, SimdWidth width)
    {
        if (width >= SimdWidth.V512)
        {
            DotQ8_K4x512(row, activations, stride, blocks, results);
            DotQ8_K4x512(row, activations + (4 * stride), stride, blocks, results + 4);
            return;
        }

        DotQ8_K8<Chunks256>(row, activations, stride, blocks, results);
    }

    /// <summary>
    /// A Q4_K-family chunk source for the AVX2 kernels: how a super-block's chunk c (64 elements, sub-blocks 2c and
    /// 2c + 1) becomes two vectors of unsigned values. Q4_K splits its packed nibbles; Q5_K adds its high bits.
    /// </summary>
    internal interface IKChunks256
    {
        /// <summary>Bytes per super-block.</summary>
        static abstract int BlockBytes { get; }

        /// <summary>Bits of the chunks' values: 4 (Q4_K) or 5 (Q5_K).</summary>
        static abstract int ValueBits { get; }

        /// <summary>Reads what the super-block's chunks share (Q5_K: its high bits).</summary>
        unsafe void Start(byte* block);

        /// <summary>Chunk c's values: sub-block 2c as <paramref name="low"/>, sub-block 2c + 1 as <paramref name="high"/>.</summary>
        unsafe void Chunk(byte* block, int c, out Vector256<byte> low, out Vector256<byte> high);
    }

    /// <summary>Q4_K's chunks: the 32 packed bytes of chunk c, low nibbles then high nibbles.</summary>
    internal struct Chunks256 : IKChunks256
    {
        public static int BlockBytes => BlockQ4_K.BlockBytes;

        public static int ValueBits => 4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Start(byte* block)
        {
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Chunk(byte* block, int c, out Vector256<byte> low, out Vector256<byte> high) =>
            SplitChunk(ref *(block + 16 + (32 * c)), out low, out high);
    }

    /// <summary>
    /// The AVX2 body of <see cref="DotQ8_K"/> for a Q4_K-family format (<typeparamref name="TChunks"/>): Q4_K's scales,
    /// mins and float steps, the values from the chunk source, the chunks written out so that each scale shuffle takes
    /// a constant control. Q5_K's loop over its chunks built those controls at run time (a scalar sequence per
    /// sub-block); through this body its single-token dot went from 15–20 to 24–28 GOP/s on a core (one row of 2048,
    /// its activations in L1, old and new builds alternating three times; the same bits).
    /// </summary>
    internal static unsafe float DotQ8_K256<TChunks>(byte* row, byte* activations, int blocks)
        where TChunks : struct, IKChunks256
    {
        var acc = Vector256<float>.Zero;
        var mins = Vector128<float>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            byte* block = row + ((long)b * TChunks.BlockBytes);
            Simd.PrefetchAhead(block, TChunks.BlockBytes);
            byte* a = activations + ((long)b * BlockQ8_K.BlockBytes) + 4; // the token's quants of block b
            var chunks = default(TChunks);
            chunks.Start(block);
            var scalesAndMins = UnpackScalesAndMins(ref *(block + 4)); // int16: sc[0..7], m[0..7]

            var scales = Vector256.Create(scalesAndMins.GetLower(), scalesAndMins.GetLower()).AsByte();
            chunks.Chunk(block, 0, out var low0, out var high0);
            var sumi = ChunkSum(low0, high0, ref *a, BroadcastScale(scales, 0), BroadcastScale(scales, 1));
            chunks.Chunk(block, 1, out var low1, out var high1);
            sumi += ChunkSum(low1, high1, ref *(a + 64), BroadcastScale(scales, 2), BroadcastScale(scales, 3));
            chunks.Chunk(block, 2, out var low2, out var high2);
            sumi += ChunkSum(low2, high2, ref *(a + 128), BroadcastScale(scales, 4), BroadcastScale(scales, 5));
            chunks.Chunk(block, 3, out var low3, out var high3);
            sumi += ChunkSum(low3, high3, ref *(a + 192), BroadcastScale(scales, 6), BroadcastScale(scales, 7));
            FloatStep(sumi, HalvesPair(block), scalesAndMins, ref *activations, blocks, b, ref acc, ref mins);
        }

        return Vector256.Sum(acc) - Vector128.Sum(mins);
    }

    /// <summary>
    /// The four-token body of a Q4_K-family format (<typeparamref name="TChunks"/>): each token's arithmetic is
    /// <see cref="DotQ8_K256{TChunks}"/>'s, the chunks written out so that each scale shuffle takes a constant control
    /// (built at run time in a loop, eight tokens as two calls ran 42–55 GOP/s on a core; written out, 61–82).
    /// </summary>
    internal static unsafe void DotQ8_K4<TChunks>(byte* row, byte* activations, long stride, int blocks, float* results)
        where TChunks : struct, IKChunks256
    {
        byte* x0 = activations;
        byte* x1 = x0 + stride;
        byte* x2 = x1 + stride;
        byte* x3 = x2 + stride;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector128<float> mins0 = default, mins1 = default, mins2 = default, mins3 = default;
        for (int b = 0; b < blocks; b++)
        {
            byte* block = row + ((long)b * TChunks.BlockBytes);
            long offset = (long)b * BlockQ8_K.BlockBytes;
            byte* a0 = x0 + offset, a1 = x1 + offset, a2 = x2 + offset, a3 = x3 + offset;
            var chunks = default(TChunks);
            chunks.Start(block);
            var scalesAndMins = UnpackScalesAndMins(ref *(block + 4));
            var scales = Vector256.Create(scalesAndMins.GetLower(), scalesAndMins.GetLower()).AsByte();
            Vector256<int> sumi0 = default, sumi1 = default, sumi2 = default, sumi3 = default;

            // The chunks written out, so that each scale shuffle takes a constant control.
            chunks.Chunk(block, 0, out var low0, out var high0);
            Chunk4(low0, high0, 0, scales, a0, a1, a2, a3, ref sumi0, ref sumi1, ref sumi2, ref sumi3);
            chunks.Chunk(block, 1, out var low1, out var high1);
            Chunk4(low1, high1, 1, scales, a0, a1, a2, a3, ref sumi0, ref sumi1, ref sumi2, ref sumi3);
            chunks.Chunk(block, 2, out var low2, out var high2);
            Chunk4(low2, high2, 2, scales, a0, a1, a2, a3, ref sumi0, ref sumi1, ref sumi2, ref sumi3);
            chunks.Chunk(block, 3, out var low3, out var high3);
            Chunk4(low3, high3, 3, scales, a0, a1, a2, a3, ref sumi0, ref sumi1, ref sumi2, ref sumi3);

            var dd = HalvesPair(block); // [d, dmin, 0, 0]
            FloatStep(sumi0, dd, scalesAndMins, ref *x0, blocks, b, ref acc0, ref mins0);
            FloatStep(sumi1, dd, scalesAndMins, ref *x1, blocks, b, ref acc1, ref mins1);
            FloatStep(sumi2, dd, scalesAndMins, ref *x2, blocks, b, ref acc2, ref mins2);
            FloatStep(sumi3, dd, scalesAndMins, ref *x3, blocks, b, ref acc3, ref mins3);
        }

        results[0] = Vector256.Sum(acc0) - Vector128.Sum(mins0);
        results[1] = Vector256.Sum(acc1) - Vector128.Sum(mins1);
        results[2] = Vector256.Sum(acc2) - Vector128.Sum(mins2);
        results[3] = Vector256.Sum(acc3) - Vector128.Sum(mins3);
    }

    /// <summary>Chunk <paramref name="c"/> (a constant) of <see cref="DotQ8_K4{TChunks}"/> for its four tokens' block activations <paramref name="a0"/>..<paramref name="a3"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Chunk4(
        Vector256<byte> low, Vector256<byte> high, int c, Vector256<byte> scales, byte* a0, byte* a1, byte* a2, byte* a3,
        ref Vector256<int> sumi0, ref Vector256<int> sumi1, ref Vector256<int> sumi2, ref Vector256<int> sumi3)
    {
        var scaleLow = BroadcastScale(scales, 2 * c);
        var scaleHigh = BroadcastScale(scales, (2 * c) + 1);
        int at = 4 + (64 * c);
        sumi0 += ChunkSum(low, high, ref *(a0 + at), scaleLow, scaleHigh);
        sumi1 += ChunkSum(low, high, ref *(a1 + at), scaleLow, scaleHigh);
        sumi2 += ChunkSum(low, high, ref *(a2 + at), scaleLow, scaleHigh);
        sumi3 += ChunkSum(low, high, ref *(a3 + at), scaleLow, scaleHigh);
    }

    /// <summary>
    /// The eight-token body of a Q4_K-family format (<typeparamref name="TChunks"/>): the scales, mins and float steps
    /// are Q4_K's, the values come from the chunk source.
    /// </summary>
    internal static unsafe void DotQ8_K8<TChunks>(byte* row, byte* activations, long stride, int blocks, float* results)
        where TChunks : struct, IKChunks256
    {
        var acc = stackalloc Vector256<float>[8];
        var mins = stackalloc Vector128<float>[8];
        for (int t = 0; t < 8; t++)
        {
            acc[t] = Vector256<float>.Zero;
            mins[t] = Vector128<float>.Zero;
        }

        for (int b = 0; b < blocks; b++)
        {
            byte* block = row + ((long)b * TChunks.BlockBytes);
            byte* a = activations + ((long)b * BlockQ8_K.BlockBytes) + 4; // token 0's quants of block b
            var chunks = default(TChunks);
            chunks.Start(block);
            var scalesAndMins = UnpackScalesAndMins(ref *(block + 4));
            var scales = Vector256.Create(scalesAndMins.GetLower(), scalesAndMins.GetLower()).AsByte();
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;

            // The chunks written out, so that each scale shuffle takes a constant control.
            chunks.Chunk(block, 0, out var low0, out var high0);
            Chunk8(low0, high0, a, stride, scales, Vector256.Create((short)0x0100), Vector256.Create((short)0x0302), ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
            chunks.Chunk(block, 1, out var low1, out var high1);
            Chunk8(low1, high1, a + 64, stride, scales, Vector256.Create((short)0x0504), Vector256.Create((short)0x0706), ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
            chunks.Chunk(block, 2, out var low2, out var high2);
            Chunk8(low2, high2, a + 128, stride, scales, Vector256.Create((short)0x0908), Vector256.Create((short)0x0B0A), ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
            chunks.Chunk(block, 3, out var low3, out var high3);
            Chunk8(low3, high3, a + 192, stride, scales, Vector256.Create((short)0x0D0C), Vector256.Create((short)0x0F0E), ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);

            var dd = HalvesPair(block); // [d, dmin, 0, 0]
            FloatStep(s0, dd, scalesAndMins, ref *activations, blocks, b, ref acc[0], ref mins[0]);
            FloatStep(s1, dd, scalesAndMins, ref *(activations + stride), blocks, b, ref acc[1], ref mins[1]);
            FloatStep(s2, dd, scalesAndMins, ref *(activations + (2 * stride)), blocks, b, ref acc[2], ref mins[2]);
            FloatStep(s3, dd, scalesAndMins, ref *(activations + (3 * stride)), blocks, b, ref acc[3], ref mins[3]);
            FloatStep(s4, dd, scalesAndMins, ref *(activations + (4 * stride)), blocks, b, ref acc[4], ref mins[4]);
            FloatStep(s5, dd, scalesAndMins, ref *(activations + (5 * stride)), blocks, b, ref acc[5], ref mins[5]);
            FloatStep(s6, dd, scalesAndMins, ref *(activations + (6 * stride)), blocks, b, ref acc[6], ref mins[6]);
            FloatStep(s7, dd, scalesAndMins, ref *(activations + (7 * stride)), blocks, b, ref acc[7], ref mins[7]);
        }

        for (int t = 0; t < 8; t++)
        {
            results[t] = Vector256.Sum(acc[t]) - Vector128.Sum(mins[t]);
        }
    }

    /// <summary>One chunk (64 elements, sub-blocks 2c and 2c + 1) of <see cref="DotQ8_K8"/> for its eight tokens.</summary>
    /// <param name="low">The chunk's first sub-block (32 unsigned values).</param>
    /// <param name="high">Its second sub-block.</param>
    /// <param name="a">Token 0's 64 activations of the chunk; token t's are t · <paramref name="stride"/> bytes later.</param>
    /// <param name="stride">Bytes from one token's activations to the next.</param>
    /// <param name="scales">The super-block's 8 scales as int16, in both lanes.</param>
    /// <param name="lowControl">The shuffle that broadcasts sc[2c] (bytes 4c, 4c + 1 in every int16 lane).</param>
    /// <param name="highControl">The shuffle that broadcasts sc[2c + 1].</param>
    /// <param name="s0">Token 0's integer sums.</param>
    /// <param name="s1">Token 1's integer sums.</param>
    /// <param name="s2">Token 2's integer sums.</param>
    /// <param name="s3">Token 3's integer sums.</param>
    /// <param name="s4">Token 4's integer sums.</param>
    /// <param name="s5">Token 5's integer sums.</param>
    /// <param name="s6">Token 6's integer sums.</param>
    /// <param name="s7">Token 7's integer sums.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Chunk8(
        Vector256<byte> low, Vector256<byte> high, byte* a, long stride, Vector256<byte> scales, Vector256<short> lowControl, Vector256<short> highControl,
        ref Vector256<int> s0, ref Vector256<int> s1, ref Vector256<int> s2, ref Vector256<int> s3,
        ref Vector256<int> s4, ref Vector256<int> s5, ref Vector256<int> s6, ref Vector256<int> s7)
    {
        var scaleLow = Avx2.Shuffle(scales, lowControl.AsByte()).AsInt16();
        var scaleHigh = Avx2.Shuffle(scales, highControl.AsByte()).AsInt16();
        s0 += ChunkSum(low, high, ref *a, scaleLow, scaleHigh);
        s1 += ChunkSum(low, high, ref *(a + stride), scaleLow, scaleHigh);
        s2 += ChunkSum(low, high, ref *(a + (2 * stride)), scaleLow, scaleHigh);
        s3 += ChunkSum(low, high, ref *(a + (3 * stride)), scaleLow, scaleHigh);
        s4 += ChunkSum(low, high, ref *(a + (4 * stride)), scaleLow, scaleHigh);
        s5 += ChunkSum(low, high, ref *(a + (5 * stride)), scaleLow, scaleHigh);
        s6 += ChunkSum(low, high, ref *(a + (6 * stride)), scaleLow, scaleHigh);
        s7 += ChunkSum(low, high, ref *(a + (7 * stride)), scaleLow, scaleHigh);
    }

    /// <summary>
    /// A token's float steps for super-block <paramref name="b"/>, the one sequence every Q4_K-family integer dot
    /// takes (one, four and eight tokens, 256 and 512 bits, Q4_K and Q5_K), so that their results are bit-identical:
    /// <c>mins += float(m · pairs) · dmin·d_a</c>, then <c>acc += float(sumi) · d·d_a</c>.
    /// </summary>
    /// <param name="sumi">The token's integer sums over the super-block (8 int32 lanes).</param>
    /// <param name="dd">The super-block's [d, dmin, 0, 0] (<see cref="HalvesPair(ref byte)"/>, read once for all tokens).</param>
    /// <param name="scalesAndMins">The super-block's scales and mins (<see cref="UnpackScalesAndMins"/>).</param>
    /// <param name="x">The token's activations row.</param>
    /// <param name="blocks">Super-blocks in the row.</param>
    /// <param name="b">The super-block.</param>
    /// <param name="acc">The token's float accumulator.</param>
    /// <param name="mins">The token's mins accumulator.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void FloatStep(
        Vector256<int> sumi, Vector128<float> dd, Vector256<short> scalesAndMins, ref byte x, int blocks, int b,
        ref Vector256<float> acc, ref Vector128<float> mins)
    {
        var d = dd * Vector128.Create(Unsafe.ReadUnaligned<float>(ref Unsafe.Add(ref x, b * BlockQ8_K.BlockBytes)));
        FloatStep(sumi, d.GetElement(0), d.GetElement(1), scalesAndMins, ref Q8_KActivations.PairSums(ref x, blocks, b), ref acc, ref mins);
    }

    /// <summary>
    /// <see cref="FloatStep(Vector256{int}, Vector128{float}, Vector256{short}, ref byte, int, int, ref Vector256{float}, ref Vector128{float})"/>
    /// with its two products already made: <paramref name="dTimesDa"/> = d·d_a and <paramref name="dminTimesDa"/> =
    /// dmin·d_a, and the token's 8 pair sums of the super-block at <paramref name="pairSums"/>.
    /// </summary>
    /// <param name="sumi">The token's integer sums over the super-block (8 int32 lanes).</param>
    /// <param name="dTimesDa">d · d_a.</param>
    /// <param name="dminTimesDa">dmin · d_a.</param>
    /// <param name="scalesAndMins">The super-block's scales and mins (<see cref="UnpackScalesAndMins"/>).</param>
    /// <param name="pairSums">The token's pair sums of the super-block (<see cref="Q8_KActivations.PairSums"/>).</param>
    /// <param name="acc">The token's float accumulator.</param>
    /// <param name="mins">The token's mins accumulator.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void FloatStep(
        Vector256<int> sumi, float dTimesDa, float dminTimesDa, Vector256<short> scalesAndMins, ref short pairSums,
        ref Vector256<float> acc, ref Vector128<float> mins)
    {
        mins = AccumulateMins(scalesAndMins, ref pairSums, dminTimesDa, mins);
        acc = Simd.MulAdd(Vector256.ConvertToSingle(sumi), Vector256.Create(dTimesDa), acc);
    }
}
