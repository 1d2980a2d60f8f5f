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

    /// <summary>The largest of the 8 lanes (IEEE max: NaN propagates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalMax(Vector256<float> v) => HorizontalMax(Vector128.Max(v.GetLower(), v.GetUpper()));

    /// <summary>The largest of the 4 lanes (IEEE max: NaN propagates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalMax(Vector128<float> v) =>
        MathF.Max(MathF.Max(v.GetElement(0), v.GetElement(1)), MathF.Max(v.GetElement(2), v.GetElement(3)));
}
