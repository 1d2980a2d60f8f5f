using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Kvasir.Kernels;

/// <summary>
/// What the machine offers and a few vector helpers shared by the kernels. <see cref="Best"/> is a
/// static readonly field, so the tiered JIT folds every dispatch on it into a single path.
/// </summary>
internal static class Simd
{
    /// <summary>The widest accelerated vector width on this machine.</summary>
    public static readonly SimdWidth Best =
        Vector512.IsHardwareAccelerated ? SimdWidth.V512
        : Vector256.IsHardwareAccelerated ? SimdWidth.V256
        : Vector128.IsHardwareAccelerated ? SimdWidth.V128
        : SimdWidth.Scalar;

    /// <summary>
    /// True where a fused multiply-add is a single instruction. Without it <c>FusedMultiplyAdd</c> is
    /// emulated in software, so the helpers below fall back to a multiply and an add.
    /// </summary>
    public static readonly bool HasFma = Fma.IsSupported || AdvSimd.IsSupported;

    /// <summary>Whether <paramref name="width"/> can run here (the scalar path always can).</summary>
    public static bool IsSupported(SimdWidth width) => width <= Best;

    /// <summary>Clamps a requested width to what the machine supports.</summary>
    public static SimdWidth Clamp(SimdWidth width) => width <= Best ? width : Best;

    /// <summary><c>a * b + c</c>, fused where the hardware fuses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MulAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        HasFma ? Vector512.FusedMultiplyAdd(a, b, c) : (a * b) + c;

    /// <summary><c>a * b + c</c>, fused where the hardware fuses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        HasFma ? Vector256.FusedMultiplyAdd(a, b, c) : (a * b) + c;

    /// <summary><c>a * b + c</c>, fused where the hardware fuses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MulAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        HasFma ? Vector128.FusedMultiplyAdd(a, b, c) : (a * b) + c;

    /// <summary>How many bytes ahead of the block it is working on a decode dot product asks for its weights.</summary>
    public const int PrefetchDistance = 4096;

    /// <summary>
    /// Asks for the cache lines of <c>[p + PrefetchDistance, p + PrefetchDistance + bytes)</c> (x86; nothing elsewhere).
    /// A one-token dot product calls it once per step of its loop with the bytes the step reads, so that
    /// the lines it will read a few kilobytes from now are already on their way, spread evenly over its work.
    /// </summary>
    /// <remarks>
    /// Why: a decode step streams every weight once from memory, and the hardware prefetchers alone keep too few
    /// lines in flight while the core computes. One core, Q8_0 rows 870 MB in memory (scratch harness): a plain read
    /// 10.4–10.9 GB/s, the dot product 7.0–8.3, the whole next rows asked for in a burst before each row 7.9–8.4 (the
    /// burst outruns the core's miss buffers), asked for 2–8 KB ahead a block at a time 8.7–11.3. Two cores: read
    /// 16–22 GB/s, dot 12–15, ahead 15–19. A prefetch never faults, so it may run past the end of the weights.
    /// </remarks>
    /// <param name="p">The start of the bytes this step reads (the address only; never dereferenced).</param>
    /// <param name="bytes">Bytes this step reads (a constant at each call site: up to 256).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchAhead(void* p, int bytes)
    {
        if (Sse.IsSupported)
        {
            // Lines at 64-byte steps from the first: consecutive steps of a loop ask for consecutive runs of lines.
            byte* ahead = (byte*)p + PrefetchDistance;
            Sse.Prefetch0(ahead);
            if (bytes > 64)
            {
                Sse.Prefetch0(ahead + 64);
            }

            if (bytes > 128)
            {
                Sse.Prefetch0(ahead + 128);
            }

            if (bytes > 192)
            {
                Sse.Prefetch0(ahead + 192);
            }
        }
    }

    /// <inheritdoc cref="PrefetchAhead(void*, int)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchAhead(ref byte p, int bytes) => PrefetchAhead(Unsafe.AsPointer(ref p), bytes);

    /// <summary>The largest of the 8 lanes (IEEE max: NaN propagates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalMax(Vector256<float> v) => HorizontalMax(Vector128.Max(v.GetLower(), v.GetUpper()));

    /// <summary>The largest of the 4 lanes (IEEE max: NaN propagates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalMax(Vector128<float> v) =>
        MathF.Max(MathF.Max(v.GetElement(0), v.GetElement(1)), MathF.Max(v.GetElement(2), v.GetElement(3)));
}
