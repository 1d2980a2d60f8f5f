using BenchmarkDotNet.Attributes;
using Kvasir.Kernels;
using Kvasir.Kernels.Quant;

namespace Kvasir.MicroBenchmarks;

/// <summary>
/// One matrix product of the S shape's FFN down projection (576 × 1536; K-quant rows need a multiple of 256) per weight type: 1 token (decode), 16 (a batch of
/// decodes), 128 (a prefill chunk); float or int8 activations; on two threads, as the engine runs it.
/// </summary>
[MemoryDiagnoser]
public class MatMulBenchmarks
{
    private const int Rows = 576;
    private const int Cols = 1536;
    private byte[] _weights = [];
    private float[] _x = [];
    private float[] _y = [];
    private KernelThreadPool? _pool;

    [Params(GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K)]
    public GgmlType Type { get; set; }

    [Params(1, 16, 128)]
    public int Tokens { get; set; }

    [Params(MatMulActivations.Float, MatMulActivations.Int8)]
    public MatMulActivations Activations { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _weights = KernelData.Matrix(Type, Rows, Cols, 1);
        _x = KernelData.Floats(Tokens * Cols, 2);
        _y = new float[Tokens * Rows];
        _pool = new KernelThreadPool(Math.Min(2, Environment.ProcessorCount));
    }

    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    [Benchmark]
    public void Compute() => MatMul.Compute(Type, _weights, Rows, Cols, _x, _y, Tokens, _pool!, Activations);
}
