using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The 512-bit integer dot product of <see cref="BlockQ5_K"/> with Q8_K activations: as
/// <see cref="BlockQ4_K"/>'s (a whole chunk of 64 five-bit values per zmm, lower + upper = AVX2's 8 int32 lanes per
/// super-block, float steps unchanged), so bit-identical to the 256-bit kernel.
/// </summary>
internal static partial class BlockQ5_K
{
    /// <summary>The 512-bit body of <see cref="DotQ8_K"/> (AVX-512, or emulated on AVX2 halves).</summary>
    private static float DotQ8_K512(ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, int blocks)
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref byte x = ref MemoryMarshal.GetReference(activations);
        var acc = Vector256<float>.Zero;
        var mins = Vector128<float>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref r, b * BlockBytes);
            Simd.PrefetchAhead(ref block, BlockBytes);
            ref byte a = ref Unsafe.Add(ref x, b * BlockQ8_K.BlockBytes);
            var scalesAndMins = BlockQ4_K.UnpackScalesAndMins(ref Unsafe.Add(ref block, 4));
            var scales = Int8Simd.InAllLanes(scalesAndMins.GetLower());
            var qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 16));
            var sumi = Vector512<int>.Zero;
            for (int c = 0; c < 4; c++)
            {
                Chunk(ref block, c, ref qh, out var low, out var high);
                var w = Vector512.Create(low, high).AsByte();
                var qa = Vector512.LoadUnsafe(ref Unsafe.Add(ref a, 4 + (64 * c))).AsSByte();
                sumi += Int8Simd.MultiplyAddAdjacent(Int8Simd.MultiplyAddAdjacent(w, qa), BlockQ4_K.ChunkScales(scales, c));
            }

            BlockQ4_K.FloatStep(sumi.GetLower() + sumi.GetUpper(), BlockQ4_K.HalvesPair(ref block), scalesAndMins, ref x, blocks, b, ref acc, ref mins);
        }

        return Vector256.Sum(acc) - Vector128.Sum(mins);
    }
}
