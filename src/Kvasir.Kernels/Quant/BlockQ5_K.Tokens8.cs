using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// <see cref="BlockQ5_K"/> against eight Q8_K tokens per pass over a row (AVX2): Q4_K's eight-token body
/// (<see cref="BlockQ4_K.DotQ8_K8{TChunks}"/>) with Q5_K's chunks, the fifth bit of each value added from the
/// super-block's high bits, read once and consumed two bits per chunk as in <see cref="DotQ8_K"/>. Each token's
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
            var weights = new ReadOnlySpan<byte>(row, blocks * BlockBytes);
            for (int t = 0; t < 8; t++)
            {
                results[t] = DotQ8_K(weights, new ReadOnlySpan<byte>(activations + (t * stride), (int)stride), blocks, width);
            }

            return;
        }

        BlockQ4_K.DotQ8_K8<Chunks256>(row, activations, stride, blocks, results);
    }

    /// <summary>Q5_K's chunks for the AVX2 kernels: <see cref="Chunk"/>, the high bits held between chunks.</summary>
    private struct Chunks256 : BlockQ4_K.IKChunks256
    {
        private Vector256<byte> _qh;

        public static int BlockBytes => BlockQ5_K.BlockBytes;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Start(byte* block) => _qh = Vector256.Load(block + 16);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Chunk(byte* block, int c, out Vector256<byte> low, out Vector256<byte> high)
        {
            BlockQ5_K.Chunk(ref *block, c, ref _qh, out var lowValues, out var highValues);
            low = lowValues.AsByte();
            high = highValues.AsByte();
        }
    }
}
