using BenchmarkDotNet.Attributes;
using Kvasir.Kernels;
using Kvasir.Kernels.Attention;

namespace Kvasir.MicroBenchmarks;

/// <summary>The element-wise kernels of a layer at the S shape's widths, single thread.</summary>
[MemoryDiagnoser]
public class OpsBenchmarks
{
    private float[] _x = [];
    private float[] _w = [];
    private float[] _y = [];
    private float[] _gate = [];
    private float[] _up = [];
    private float[] _scores = [];
    private float[] _q = [];
    private float[] _invFreq = [];

    [GlobalSetup]
    public void Setup()
    {
        _x = KernelData.Floats(576, 5);
        _w = KernelData.Floats(576, 6);
        _y = new float[576];
        _gate = KernelData.Floats(1536, 7);
        _up = KernelData.Floats(1536, 8);
        _scores = KernelData.Floats(2048, 9);
        _q = KernelData.Floats(9 * 64, 10);
        _invFreq = Rope.InvFrequencies(64, 10000f, []);
    }

    [Benchmark]
    public void RmsNorm576() => Ops.RmsNorm(_x, _w, _y, 1e-5f);

    [Benchmark]
    public void SwiGlu1536() => Ops.SwiGlu(_gate, _up, _gate);

    [Benchmark]
    public void Softmax2048() => Ops.Softmax(_scores);

    [Benchmark]
    public void RopeNormal9Heads() => Rope.ApplyNormal(_q, 9, 64, 1234, _invFreq);
}

/// <summary>
/// Paged attention of one decoding token (S shape: 9 query heads over 3 KV heads of 64) over a context of
/// 512 or 2048 tokens in 16-token blocks, F16 or F32 KV, single call and the pool-parallel batch entry.
/// </summary>
[MemoryDiagnoser]
public unsafe class AttentionBenchmarks
{
    private const int BlockSize = 16;
    private const int KvHeads = 3;
    private const int HeadDim = 64;
    private const int Heads = 9;
    private byte* _k;
    private byte* _v;
    private KvLayerView _layer;
    private int[] _table = [];
    private float[] _q = [];
    private float[] _out = [];
    private float[] _scratch = [];
    private readonly int[] _start = [0];
    private int[] _len = [0];
    private KernelThreadPool? _pool;

    [Params(512, 2048)]
    public int Context { get; set; }

    [Params(KvDataType.F16, KvDataType.F32)]
    public KvDataType KvType { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var blocks = Context / BlockSize;
        var bytes = (nuint)(blocks * KvLayerView.BytesPerBlock(KvType, BlockSize, KvHeads, HeadDim));
        _k = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(bytes, 64);
        _v = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(bytes, 64);
        _layer = new KvLayerView(_k, _v, KvType, blocks, BlockSize, KvHeads, HeadDim);
        var row = KernelData.Floats(KvHeads * HeadDim, 11);
        for (var slot = 0; slot < Context; slot++)
        {
            PagedAttention.WriteKv(_layer, slot, row, row);
        }

        _table = [.. Enumerable.Range(0, blocks).Reverse()];
        _q = KernelData.Floats(Heads * HeadDim, 12);
        _out = new float[Heads * HeadDim];
        _scratch = new float[Context * (Heads / KvHeads)];
        _len = [Context];
        _pool = new KernelThreadPool(Math.Min(2, Environment.ProcessorCount));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool?.Dispose();
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_k);
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_v);
    }

    [Benchmark(Baseline = true)]
    public void Attend() => PagedAttention.Attend(_layer, _q, Heads, _table, Context, 0.125f, _out, _scratch);

    [Benchmark]
    public void AttendBatchOnPool() => PagedAttention.AttendBatch(_layer, _q, Heads, _table, _start, _len, 0.125f, _out, _pool!);
}
