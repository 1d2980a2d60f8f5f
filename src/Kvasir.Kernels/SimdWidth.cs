namespace Kvasir.Kernels;

/// <summary>
/// The widest SIMD register a kernel may use. Public entry points always pick <see cref="Simd.Best"/>;
/// the internal overloads that take a width let the tests run every path this machine can execute
/// against the scalar reference.
/// </summary>
internal enum SimdWidth
{
    /// <summary>Plain scalar loops (the reference).</summary>
    Scalar = 0,

    /// <summary>128-bit vectors (SSE, NEON).</summary>
    V128 = 128,

    /// <summary>256-bit vectors (AVX2).</summary>
    V256 = 256,

    /// <summary>512-bit vectors (AVX-512).</summary>
    V512 = 512,
}
