using BenchmarkDotNet.Attributes;
using Kvasir.Kernels;
using Kvasir.Kernels.Quant;

namespace Kvasir.MicroBenchmarks;

/// <summary>Single-thread row kernels: the dot product of one stored row with float activations, and its dequantization.</summary>
[MemoryDiagnoser]
public class RowBenchmarks
{
    private const int Cols = 4096;
    private byte[] _row = [];
    private float[] _x = [];
    private float[] _out = [];

    [Params(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS)]
    public GgmlType Type { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _row = KernelData.Matrix(Type, 1, Cols, 3);
        _x = KernelData.Floats(Cols, 4);
        _out = new float[Cols];
    }

    [Benchmark]
    public float Dot() => MatMul.Dot(Type, _row, _x);

    [Benchmark]
    public void DequantizeRow() => Dequantize.Row(Type, _row, _out);
}
