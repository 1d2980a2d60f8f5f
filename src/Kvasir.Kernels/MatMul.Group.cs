using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels;

/// <summary>Several products of the same activations as one pool job.</summary>
public static unsafe partial class MatMul
{
    /// <summary>
    /// Two or three products of the same activations as one pool job (a layer's Q, K and V projections, or its gate
    /// and up projections): <c>first.Output[t · first.Rows + r] = first.Weights[r, :] · x[t, :]</c> and likewise for
    /// the others, bit-identical to separate <see cref="Compute(GgmlType, ReadOnlySpan{byte}, int, int, ReadOnlySpan{float}, Span{float}, int, KernelThreadPool, MatMulActivations)"/>
    /// calls. The threads meet at one barrier instead of one per product, and products whose activations are
    /// prepared the same way (quantized to the same type, packed, prescaled) share one preparation.
    /// </summary>
    /// <param name="x">Activations [n, cols].</param>
    /// <param name="cols">Input features of every product.</param>
    /// <param name="n">Number of tokens.</param>
    /// <param name="pool">The threads to run on.</param>
    /// <param name="activations">Float or Int8, as for one product.</param>
    /// <param name="first">The first product.</param>
    /// <param name="second">The second product.</param>
    /// <param name="third">A third product, or <c>default</c> (no rows) for two.</param>
    /// <exception cref="ArgumentException">Unsupported type, or a size that does not fit.</exception>
    public static void ComputeGroup(
        ReadOnlySpan<float> x, int cols, int n, KernelThreadPool pool, MatMulActivations activations,
        MatMulProduct first, MatMulProduct second, MatMulProduct third = default) =>
        ComputeGroup(x, cols, n, pool, activations, Simd.Best, first, second, third);

    /// <summary>As the public overload, with the widest vectors the GEMM kernels may use (tests: V512 in software).</summary>
    internal static void ComputeGroup(
        ReadOnlySpan<float> x, int cols, int n, KernelThreadPool pool, MatMulActivations activations, SimdWidth width,
        MatMulProduct first, MatMulProduct second, MatMulProduct third)
    {
        ArgumentNullException.ThrowIfNull(pool);
        Validate(first.Type, first.Weights, first.Rows, cols, x, first.Output, n);
        Validate(second.Type, second.Weights, second.Rows, cols, x, second.Output, n);
        Validate(third.Type, third.Weights, third.Rows, cols, x, third.Output, n);
        if (n == 0)
        {
            return;
        }

        if (cols == 0)
        {
            first.Output[..(n * first.Rows)].Clear();
            second.Output[..(n * second.Rows)].Clear();
            third.Output[..(n * third.Rows)].Clear();
            return;
        }

        fixed (byte* w0 = first.Weights, w1 = second.Weights, w2 = third.Weights)
        fixed (float* xp = x, y0 = first.Output, y1 = second.Output, y2 = third.Output)
        {
            var work0 = Prepare(first.Type, w0, first.Rows, cols, xp, y0, n, pool, activations, 0, default, width, out int chunks0, out var prepared0);
            var work1 = Prepare(second.Type, w1, second.Rows, cols, xp, y1, n, pool, activations, 1, prepared0, width, out int chunks1, out var prepared1);
            var shared = prepared1.Kind != PreparedKind.None ? prepared1 : prepared0;
            var work2 = Prepare(third.Type, w2, third.Rows, cols, xp, y2, n, pool, activations, 2, shared, width, out int chunks2, out _);
            var group = new MatMulGroupWork(work0, chunks0, work1, chunks1, work2, chunks2);
            if (group.ChunkCount == 1)
            {
                group.Execute(0);
            }
            else
            {
                pool.Run(group.ChunkCount, group);
            }
        }
    }
}
