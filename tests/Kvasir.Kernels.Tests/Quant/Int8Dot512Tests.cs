using System.Runtime.Intrinsics.X86;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

/// <summary>
/// The 512-bit integer dot products (<see cref="SimdWidth.V512"/> passed explicitly, so that on an AVX2 machine they
/// run with <see cref="Int8Simd"/>'s emulated operations): against the scalar reference, bit for bit against the
/// 256-bit kernels (which they are built to reproduce), and their four-token kernels bit for bit per token against the
/// one-token kernel.
/// </summary>
public sealed class Int8Dot512Tests
{
    public static TheoryData<GgmlType> Types() => [GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];

    public static TheoryData<GgmlType> FourTokenTypes() => [GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K];

    [Theory]
    [MemberData(nameof(Types))]
    public void Dot512_IsBitIdenticalTo256_AndWithinToleranceOfTheReference(GgmlType type)
    {
        if (!Avx2.IsSupported)
        {
            return; // both integer SIMD paths need AVX2
        }

        var activationType = MatMul.Int8ActivationType(type);
        int blockSize = QuantTraits.Get(type).BlockSize;
        var rng = new Random(200 + (int)type);
        foreach (int blocks in BlockCounts(blockSize))
        {
            int n = blocks * blockSize;
            var row = TestData.RandomRow(type, n, rng);
            var activations = new byte[MatMul.Int8ActivationRowBytes(activationType, n)];
            MatMul.QuantizeInt8Activations(activationType, TestData.Floats(rng, n, 3), activations);
            var (_, magnitude) = TestData.ExactDot(TestData.DequantizeReference(type, row, n), TestData.DequantizeReference(activationType, activations, n));

            float reference = MatMul.DotInt8Unchecked(type, row, activations, blocks, SimdWidth.Scalar);
            float v256 = MatMul.DotInt8Unchecked(type, row, activations, blocks, SimdWidth.V256);
            float v512 = MatMul.DotInt8Unchecked(type, TestData.AtOffset(row, 5), TestData.AtOffset(activations, 3), blocks, SimdWidth.V512);
            TestData.AssertClose(reference, v512, Tolerance.Int8Dot, magnitude, $"{type} V512 blocks={blocks}");
            Assert.True(
                BitConverter.SingleToInt32Bits(v256) == BitConverter.SingleToInt32Bits(v512),
                $"{type} blocks={blocks}: V512 {v512:R} is not bit-identical to V256 {v256:R}");
        }
    }

    [Theory]
    [MemberData(nameof(FourTokenTypes))]
    public void FourTokenKernel_IsBitIdenticalPerToken_ToTheOneTokenKernel_AtBothWidths(GgmlType type)
    {
        if (!Avx2.IsSupported)
        {
            return;
        }

        var activationType = MatMul.Int8ActivationType(type);
        int blockSize = QuantTraits.Get(type).BlockSize;
        var rng = new Random(210 + (int)type);
        foreach (int blocks in BlockCounts(blockSize))
        {
            int n = blocks * blockSize;
            var row = TestData.RandomRow(type, n, rng);
            int rowBytes = (int)MatMul.Int8ActivationRowBytes(activationType, n);
            int stride = rowBytes + 7; // unaligned token starts
            var activations = new byte[(4 * stride) + 1];
            for (int t = 0; t < 4; t++)
            {
                MatMul.QuantizeInt8Activations(activationType, TestData.Floats(rng, n, 1 + t), activations.AsSpan(1 + (t * stride), rowBytes));
            }

            foreach (var width in new[] { SimdWidth.V256, SimdWidth.V512 })
            {
                var four = Dot4(type, TestData.AtOffset(row, 3), activations.AsSpan(1), stride, blocks, width);
                for (int t = 0; t < 4; t++)
                {
                    float alone = MatMul.DotInt8Unchecked(type, row, activations.AsSpan(1 + (t * stride), rowBytes), blocks, width);
                    Assert.True(
                        BitConverter.SingleToInt32Bits(alone) == BitConverter.SingleToInt32Bits(four[t]),
                        $"{type} {width} blocks={blocks} token {t}: four-token {four[t]:R}, one-token {alone:R}");
                }
            }
        }
    }

    /// <summary>Row lengths in blocks: none, tails of every size, and several full groups (32-element types go four blocks a step).</summary>
    private static int[] BlockCounts(int blockSize) =>
        blockSize == 32 ? [0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 16, 19, 64, 67] : [0, 1, 2, 3, 5, 8];

    private static unsafe float[] Dot4(GgmlType type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> activations, long stride, int blocks, SimdWidth width)
    {
        var results = new float[4];
        fixed (byte* w = row)
        fixed (byte* a = activations)
        fixed (float* y = results)
        {
            switch (type)
            {
                case GgmlType.Q4_K: BlockQ4_K.DotQ8_K4(w, a, stride, blocks, y, width); break;
                case GgmlType.Q6_K: BlockQ6_K.DotQ8_K4(w, a, stride, blocks, y, width); break;
                case GgmlType.Q4_0: Q8_0Activations.Dot4<BlockQ4_0.Weights>(w, a, stride, blocks, y, width); break;
                case GgmlType.Q5_0: Q8_0Activations.Dot4<BlockQ5_0.Weights>(w, a, stride, blocks, y, width); break;
                case GgmlType.Q8_0: Q8_0Activations.Dot4<BlockQ8_0.Weights>(w, a, stride, blocks, y, width); break;
                default: throw new ArgumentException($"{type} has no four-token kernel.", nameof(type));
            }
        }

        return results;
    }
}
