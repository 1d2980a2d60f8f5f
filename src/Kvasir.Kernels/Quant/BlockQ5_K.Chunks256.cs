using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// <see cref="BlockQ5_K"/> against eight Q8_K tokens per pass over a row (AVX2): Q4_K's eight-token body
/// (<see cref="BlockQ4_K.DotQ8_K8{TChunks}"/>) with Q5_K's chunks, the fifth bit of each value added from the
/// super-block's high bits (read once, a mask and a constant shift per sub-block). Each token's
/// arithmetic is <see cref="DotQ8_K"/>'s, so results are bit-identical to one token at a time.
/// </summary>
internal static partial class BlockQ5_K
{
    /// <summary>
    /// <see cref="DotQ8_K"/> of one row with eight tokens at once: <c>results[t]</c> is bit-identical to
    /// <see cref="DotQ8_K"/> of token t. AVX2 only; with <see cref="SimdWidth.V512"/>, eight 512-bit single-token dots.
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
            OneByOne(row, activations, stride, blocks, results, 8, width);
            return;
        }

        BlockQ4_K.DotQ8_K8<Chunks256>(row, activations, stride, blocks, results);
    }

    /// <summary>
    /// <see cref="DotQ8_K"/> of one row with four tokens at once (Q4_K's four-token body with Q5_K's chunks):
    /// <c>results[t]</c> is bit-identical to <see cref="DotQ8_K"/> of token t. AVX2 only; with
    /// <see cref="SimdWidth.V512"/>, four 512-bit single-token dots.
    /// </summary>
    /// <param name="row">The weight row's super-blocks.</param>
    /// <param name="activations">Token 0's <see cref="Q8_KActivations"/> row; token t's starts t · <paramref name="stride"/> bytes later.</param>
    /// <param name="stride">Bytes from one token's activations to the next.</param>
    /// <param name="blocks">Super-blocks in the row.</param>
    /// <param name="results">Four floats: the dot with each token.</param>
    /// <param name="width">The widest vectors to use.</param>
    public static unsafe void DotQ8_K4(byte* row, byte* activations, long stride, int blocks, float* results, SimdWidth width)
    {
        if (width >= SimdWidth.V512)
        {
            OneByOne(row, activations, stride, blocks, results, 4, width);
            return;
        }

        BlockQ4_K.DotQ8_K4<Chunks256>(row, activations, stride, blocks, results);
    }

    /// <summary>
    /// The multi-token kernels' 512-bit form: <paramref name="count"/> single-token dots (<see cref="DotQ8_K512"/>, which
    /// gives the AVX2 bits), as Q5_K has no 512-bit multi-token body.
    /// </summary>
    private static unsafe void OneByOne(byte* row, byte* activations, long stride, int blocks, float* results, int count, SimdWidth width)
    {
        var weights = new ReadOnlySpan<byte>(row, blocks * BlockBytes);
        for (int t = 0; t < count; t++)
        {
            results[t] = DotQ8_K(weights, new ReadOnlySpan<byte>(activations + (t * stride), (int)stride), blocks, width);
        }
    }

    /// <summary>
    /// Q5_K's chunks for the AVX2 integer kernels: the nibbles as Q4_K's, each value's fifth bit (bit 2c or 2c + 1 of
    /// its high-bit byte) moved to bit 4 by one mask and one 16-bit shift by a constant (the mask leaves one bit per
    /// byte, so nothing crosses into the neighbouring byte). <see cref="Chunk"/>'s shift of the whole high-bit vector
    /// after each chunk took two more instructions per vector, and its byte shifts a mask each.
    /// </summary>
    internal struct Chunks256 : BlockQ4_K.IKChunks256
    {
        private Vector256<byte> _qh;

        public static int BlockBytes => BlockQ5_K.BlockBytes;

        public static int ValueBits => 5;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Start(byte* block) => _qh = Vector256.Load(block + 16);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly unsafe void Chunk(byte* block, int c, out Vector256<byte> low, out Vector256<byte> high)
        {
            var packed = Vector256.Load(block + 48 + (32 * c));
            var nibble = Vector256.Create((byte)0x0F);
            low = (packed & nibble) | FifthBit(_qh, 2 * c);
            high = ((packed.AsUInt16() >> 4).AsByte() & nibble) | FifthBit(_qh, (2 * c) + 1);
        }

        /// <summary>Bit <paramref name="bit"/> (a constant, 0..7) of each byte of <paramref name="qh"/>, as 16 or 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<byte> FifthBit(Vector256<byte> qh, int bit)
        {
            var set = (qh & Vector256.Create((byte)(1 << bit))).AsUInt16();
            return (bit < 4 ? set << (4 - bit) : bit > 4 ? set >> (bit - 4) : set).AsByte();
        }
    }
}
