using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kvasir.Kernels;

/// <summary>The elementwise operators, each written once for every vector width and for scalars.</summary>
public static partial class Ops
{
    private interface IUnaryOperator
    {
        float Invoke(float x);

        Vector128<float> Invoke(Vector128<float> x);

        Vector256<float> Invoke(Vector256<float> x);

        Vector512<float> Invoke(Vector512<float> x);
    }

    private interface IBinaryOperator
    {
        float Invoke(float a, float b);

        Vector128<float> Invoke(Vector128<float> a, Vector128<float> b);

        Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);

        Vector512<float> Invoke(Vector512<float> a, Vector512<float> b);
    }

    /// <summary><c>x * factor</c>.</summary>
    private readonly struct ScaleOperator(float factor) : IUnaryOperator
    {
        private readonly float _factor = factor;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float x) => x * _factor;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<float> Invoke(Vector128<float> x) => x * _factor;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> x) => x * _factor;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> x) => x * _factor;
    }

    /// <summary><c>a + b</c>.</summary>
    private readonly struct AddOperator : IBinaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float a, float b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a + b;
    }

    /// <summary><c>a * b</c>.</summary>
    private readonly struct MulOperator : IBinaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float a, float b) => a * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a * b;
    }

    /// <summary><c>(a * scale) * b</c>: the second half of RMS norm, rounded in ggml's order.</summary>
    private readonly struct ScaleMulOperator(float scale) : IBinaryOperator
    {
        private readonly float _scale = scale;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float a, float b) => a * _scale * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a * _scale * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a * _scale * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a * _scale * b;
    }

    /// <summary><c>silu(gate) * up</c> with <c>silu(g) = g / (1 + exp(-g))</c>.</summary>
    private readonly struct SiluMulOperator : IBinaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float a, float b) => a / (1.0f + MathF.Exp(-a)) * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) =>
            a / (Vector128<float>.One + Vector128.Exp(-a)) * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) =>
            a / (Vector256<float>.One + Vector256.Exp(-a)) * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) =>
            a / (Vector512<float>.One + Vector512.Exp(-a)) * b;
    }

    /// <summary><c>alpha * x + y</c> (BLAS axpy).</summary>
    private readonly struct AxpyOperator(float alpha) : IBinaryOperator
    {
        private readonly float _alpha = alpha;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float a, float b) => (_alpha * a) + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => Simd.MulAdd(Vector128.Create(_alpha), a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Simd.MulAdd(Vector256.Create(_alpha), a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Simd.MulAdd(Vector512.Create(_alpha), a, b);
    }
}
