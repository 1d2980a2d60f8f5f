using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels;

/// <summary>
/// One <see cref="MatMul.Compute(GgmlType, ReadOnlySpan{byte}, int, int, ReadOnlySpan{float}, Span{float}, int)"/>
/// call as a pool job: chunk c computes output rows [c·RowsPerChunk, (c+1)·RowsPerChunk) for every token.
/// </summary>
/// <remarks>
/// <code>
///            cols                                   rows
///        ┌──────────┐                           ┌──────────┐
///  rows  │ W (quant)│ ← chunk c: RowsPerChunk    │          │
///        │          │   rows, 4 at a time     n  │    y     │  y[t, r] = W[r, :] · x[t, :]
///        └──────────┘                           └──────────┘
///        ┌──────────┐
///  n     │ x (f32)  │ ← token tiles of TokenTile rows, sized to stay in L2 while 4 weight rows
///        └──────────┘   (dequantized once per tile) sweep across them
/// </code>
/// </remarks>
internal readonly unsafe struct MatMulWork : IKernelWork
{
    /// <summary>From this many tokens on, rows are dequantized and multiplied with token tiles.</summary>
    public const int TiledMinTokens = 4;

    /// <summary>Weight rows dequantized and multiplied together by the register kernel.</summary>
    public const int RowGroup = 4;

    /// <summary>Bytes of activations per token tile (kept in L2 while the row groups sweep it).</summary>
    private const int TileBytes = 256 * 1024;

    /// <summary>Per-thread buffer of <see cref="RowGroup"/> dequantized rows; grows to the widest matrix seen, then stays.</summary>
    [ThreadStatic]
    private static float[]? _scratch;

    private readonly GgmlType _type;
    private readonly byte* _weights;   // [rows, rowBytes]
    private readonly long _rowBytes;
    private readonly int _rows;
    private readonly int _cols;
    private readonly float* _x;        // [n, cols]
    private readonly float* _y;        // [n, rows]
    private readonly int _n;
    private readonly int _rowsPerChunk;
    private readonly int _tokenTile;
    private readonly byte* _activations;       // [n, activationRowBytes] quantized x (F16 weights: x · 2^112), or null for the float path
    private readonly long _activationRowBytes;

    public MatMulWork(GgmlType type, byte* weights, long rowBytes, int rows, int cols, float* x, float* y, int n, int rowsPerChunk)
    {
        _type = type;
        _weights = weights;
        _rowBytes = rowBytes;
        _rows = rows;
        _cols = cols;
        _x = x;
        _y = y;
        _n = n;
        _rowsPerChunk = rowsPerChunk;
        _tokenTile = Math.Max(2, TileBytes / (cols * sizeof(float)));
        _activations = null;
        _activationRowBytes = 0;
    }

    private MatMulWork(in MatMulWork work, byte* activations, long activationRowBytes)
    {
        this = work;
        _activations = activations;
        _activationRowBytes = activationRowBytes;
        _tokenTile = (int)Math.Max(1, TileBytes / activationRowBytes);
    }

    /// <summary>This job on the integer path, with the tokens already quantized.</summary>
    public MatMulWork WithActivations(byte* activations, long activationRowBytes) => new(this, activations, activationRowBytes);

    public void Execute(int chunkIndex)
    {
        int r0 = chunkIndex * _rowsPerChunk;
        int r1 = Math.Min(_rows, r0 + _rowsPerChunk);
        Debug.Assert(r0 < r1, "Chunk index past the last row.");
        if (_activations != null && _type == GgmlType.F16)
        {
            PrescaledF16Rows(r0, r1);
        }
        else if (_activations != null)
        {
            Int8Rows(r0, r1);
        }
        else if (_n < TiledMinTokens || !Vector256.IsHardwareAccelerated)
        {
            DotRows(r0, r1);
        }
        else
        {
            TiledRows(r0, r1);
        }
    }

    /// <summary>Decode: each row dotted with each token straight from its quantized bytes.</summary>
    private void DotRows(int r0, int r1)
    {
        for (int r = r0; r < r1; r++)
        {
            var row = new ReadOnlySpan<byte>(_weights + (r * _rowBytes), (int)_rowBytes);
            for (int t = 0; t < _n; t++)
            {
                var x = new ReadOnlySpan<float>(_x + ((long)t * _cols), _cols);
                _y[((long)t * _rows) + r] = MatMul.DotUnchecked(_type, row, x, Simd.Best);
            }
        }
    }

    /// <summary>The integer path: each row against each quantized token, tokens tiled to stay in L2.</summary>
    private void Int8Rows(int r0, int r1)
    {
        int blocks = _cols / QuantTraits.Get(_type).BlockSize;
        for (int t0 = 0; t0 < _n; t0 += _tokenTile)
        {
            int t1 = Math.Min(_n, t0 + _tokenTile);
            for (int r = r0; r < r1; r++)
            {
                var row = new ReadOnlySpan<byte>(_weights + (r * _rowBytes), (int)_rowBytes);
                for (int t = t0; t < t1; t++)
                {
                    var activations = new ReadOnlySpan<byte>(_activations + (t * _activationRowBytes), (int)_activationRowBytes);
                    _y[((long)t * _rows) + r] = MatMul.DotInt8Unchecked(_type, row, activations, blocks, Simd.Best);
                }
            }
        }
    }

    /// <summary>F16 decode: rows against tokens prescaled by 2^112 (see <see cref="RowF16.DotPrescaled"/>).</summary>
    private void PrescaledF16Rows(int r0, int r1)
    {
        float* scaled = (float*)_activations;
        for (int r = r0; r < r1; r++)
        {
            ushort* row = (ushort*)(_weights + (r * _rowBytes));
            for (int t = 0; t < _n; t++)
            {
                long offset = (long)t * _cols;
                _y[((long)t * _rows) + r] = RowF16.DotPrescaled(row, scaled + offset, _x + offset, _cols);
            }
        }
    }

    /// <summary>Prefill and batches: four dequantized rows at a time against tiles of tokens.</summary>
    private void TiledRows(int r0, int r1)
    {
        int cols = _cols;
        float[] scratch = _scratch is { } s && s.Length >= RowGroup * cols ? s : (_scratch = new float[RowGroup * cols]);
        fixed (float* buffer = scratch)
        {
            float** w = stackalloc float*[RowGroup];
            for (int t0 = 0; t0 < _n; t0 += _tokenTile)
            {
                int t1 = Math.Min(_n, t0 + _tokenTile);
                for (int r = r0; r < r1; r += RowGroup)
                {
                    int groupRows = Math.Min(RowGroup, r1 - r);
                    for (int i = 0; i < groupRows; i++)
                    {
                        byte* row = _weights + ((r + i) * _rowBytes);
                        if (_type == GgmlType.F32)
                        {
                            w[i] = (float*)row;
                        }
                        else
                        {
                            w[i] = buffer + (i * cols);
                            Dequantize.RowUnchecked(_type, new ReadOnlySpan<byte>(row, (int)_rowBytes), new Span<float>(w[i], cols), Simd.Best);
                        }
                    }

                    if (groupRows == RowGroup)
                    {
                        int t = t0;
                        for (; t + 2 <= t1; t += 2)
                        {
                            float* xa = _x + ((long)t * cols);
                            Kernel4x2(w, xa, xa + cols, cols, _y + ((long)t * _rows) + r, _y + ((long)(t + 1) * _rows) + r);
                        }

                        if (t < t1)
                        {
                            Kernel4x1(w, _x + ((long)t * cols), cols, _y + ((long)t * _rows) + r);
                        }
                    }
                    else
                    {
                        for (int i = 0; i < groupRows; i++)
                        {
                            var wi = new ReadOnlySpan<float>(w[i], cols);
                            for (int t = t0; t < t1; t++)
                            {
                                _y[((long)t * _rows) + r + i] = Ops.Dot(wi, new ReadOnlySpan<float>(_x + ((long)t * cols), cols), Simd.Best);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>4 rows × 2 tokens: 8 accumulators, each weight vector loaded once for both tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x2(float** w, float* xa, float* xb, int cols, float* ya, float* yb)
    {
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int k = 0;
        for (; k <= cols - 8; k += 8)
        {
            var va = Vector256.Load(xa + k);
            var vb = Vector256.Load(xb + k);
            var v = Vector256.Load(w0 + k);
            a0 = Simd.MulAdd(v, va, a0);
            b0 = Simd.MulAdd(v, vb, b0);
            v = Vector256.Load(w1 + k);
            a1 = Simd.MulAdd(v, va, a1);
            b1 = Simd.MulAdd(v, vb, b1);
            v = Vector256.Load(w2 + k);
            a2 = Simd.MulAdd(v, va, a2);
            b2 = Simd.MulAdd(v, vb, b2);
            v = Vector256.Load(w3 + k);
            a3 = Simd.MulAdd(v, va, a3);
            b3 = Simd.MulAdd(v, vb, b3);
        }

        float sa0 = Vector256.Sum(a0), sa1 = Vector256.Sum(a1), sa2 = Vector256.Sum(a2), sa3 = Vector256.Sum(a3);
        float sb0 = Vector256.Sum(b0), sb1 = Vector256.Sum(b1), sb2 = Vector256.Sum(b2), sb3 = Vector256.Sum(b3);
        for (; k < cols; k++)
        {
            sa0 += w0[k] * xa[k];
            sa1 += w1[k] * xa[k];
            sa2 += w2[k] * xa[k];
            sa3 += w3[k] * xa[k];
            sb0 += w0[k] * xb[k];
            sb1 += w1[k] * xb[k];
            sb2 += w2[k] * xb[k];
            sb3 += w3[k] * xb[k];
        }

        ya[0] = sa0;
        ya[1] = sa1;
        ya[2] = sa2;
        ya[3] = sa3;
        yb[0] = sb0;
        yb[1] = sb1;
        yb[2] = sb2;
        yb[3] = sb3;
    }

    /// <summary>4 rows × 1 token (the odd token of a tile).</summary>
    private static void Kernel4x1(float** w, float* x, int cols, float* y)
    {
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int k = 0;
        for (; k <= cols - 8; k += 8)
        {
            var vx = Vector256.Load(x + k);
            a0 = Simd.MulAdd(Vector256.Load(w0 + k), vx, a0);
            a1 = Simd.MulAdd(Vector256.Load(w1 + k), vx, a1);
            a2 = Simd.MulAdd(Vector256.Load(w2 + k), vx, a2);
            a3 = Simd.MulAdd(Vector256.Load(w3 + k), vx, a3);
        }

        float s0 = Vector256.Sum(a0), s1 = Vector256.Sum(a1), s2 = Vector256.Sum(a2), s3 = Vector256.Sum(a3);
        for (; k < cols; k++)
        {
            s0 += w0[k] * x[k];
            s1 += w1[k] * x[k];
            s2 += w2[k] * x[k];
            s3 += w3[k] * x[k];
        }

        y[0] = s0;
        y[1] = s1;
        y[2] = s2;
        y[3] = s3;
    }
}
