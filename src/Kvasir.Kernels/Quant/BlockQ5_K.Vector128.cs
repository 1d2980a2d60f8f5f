using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels.Quant;

/// <summary>
/// The Vector128 paths (SSE, NEON) of <see cref="BlockQ5_K"/>'s dequantize and float dot: <see cref="BlockQ4_K"/>'s loops
/// (<see cref="BlockQ4_K.DequantizeK128{TChunks}"/>, <see cref="BlockQ4_K.DotK128{TChunks}"/>) with each chunk's 32 packed
/// bytes and the 32 high-bit bytes read as two Vector128s each.
/// </summary>
internal static partial class BlockQ5_K
{
    /// <summary>
    /// Q5_K's chunks for <see cref="BlockQ4_K"/>'s shared loops: 32 packed bytes per chunk and the super-block's 32
    /// high-bit bytes, read once per super-block and consumed two bits per chunk (<see cref="Half128"/>).
    /// </summary>
    private struct Chunks128 : BlockQ4_K.IKChunks128
    {
        private Vector128<byte> _qh0;
        private Vector128<byte> _qh1;

        public static int BlockBytes => BlockQ5_K.BlockBytes;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Start(ref byte block)
        {
            _qh0 = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 16));
            _qh1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 32));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Chunk(ref byte block, int c, out Vector128<sbyte> low0, out Vector128<sbyte> low1, out Vector128<sbyte> high0, out Vector128<sbyte> high1)
        {
            ref byte q = ref Unsafe.Add(ref block, 48 + (32 * c));
            Half128(ref q, ref _qh0, out low0, out high0);
            Half128(ref Unsafe.Add(ref q, 16), ref _qh1, out low1, out high1);
        }
    }

    /// <summary>
    /// Half a chunk (16 packed bytes at <paramref name="q"/>, positions l to l + 15 of both its sub-blocks) as 5-bit
    /// values: <paramref name="low"/> of sub-block 2c, <paramref name="high"/> of 2c + 1. <paramref name="qh"/> holds the
    /// same positions' high-bit bytes and is consumed two bits per chunk (shifted right by 2 for the next chunk), as on
    /// Vector256, rather than shifted by 2c each time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Half128(ref byte q, ref Vector128<byte> qh, out Vector128<sbyte> low, out Vector128<sbyte> high)
    {
        var packed = Vector128.LoadUnsafe(ref q);
        var one = Vector128.Create((byte)1);
        low = ((packed & Vector128.Create((byte)0x0F)) | ((qh & one) << 4)).AsSByte();
        high = ((packed >>> 4) | (((qh >>> 1) & one) << 4)).AsSByte();
        qh >>>= 2;
    }
}
