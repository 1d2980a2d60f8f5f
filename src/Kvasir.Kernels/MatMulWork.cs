using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels;

/// <summary>
/// One <see cref="MatMul.Compute(GgmlType, ReadOnlySpan{byte}, int, int, ReadOnlySpan{float}, Span{float}, int)"/>
/// call as a pool job: chunk c computes the output rows <see cref="RowChunks.Range"/> gives it, for every token.
/// </summary>
/// <remarks>
/// <code>
///            cols                                   rows
///        ┌──────────┐                           ┌──────────┐
///  rows  │ W (quant)│ ← chunk c: a range of      │          │
///        │          │   rows, 4 at a time     n  │    y     │  y[t, r] = W[r, :] · x[t, :]
///        └──────────┘   (dequantized once per    └──────────┘
///        ┌──────────┐    block of 96 tokens)
///  n     │ x (f32)  │ ← n ≥ 8: blocks of 96 tokens packed column-major in micro-tiles of 24
///        └──────────┘   (4 × 24 register tiles); 4 ≤ n &lt; 8: 4 × 2 dot tiles; n &lt; 4: each
///                       row dotted with each token
/// </code>
/// </remarks>
internal readonly unsafe partial struct MatMulWork : IKernelWork
{
    /// <summary>From this many tokens on, rows are dequantized and multiplied with token tiles.</summary>
    public const int TiledMinTokens = 4;

    /// <summary>From this many tokens on, the tiled path is the outer-product GEMM (packed tokens); below, the 4 × 2 dot kernel.</summary>
    public const int GemmMinTokens = 8;

    /// <summary>
    /// Below this many tokens the integer path (when asked for) dots each row with the quantized tokens, several tokens
    /// per pass where the type has such a kernel; from it on, rows are dequantized for the float tiles and GEMM.
    /// Measured on one core, 5632 × 2048 (kbench): the Q8_0-activation types'
    /// <see cref="Q8_0Activations.Dot4{TWeights}"/> ran 28–50 GFLOP/s at 4 tokens against 18–24 for the 4 × 2 float
    /// tiles, but lost to the GEMM from 16 (45 vs 57 for Q8_0), so they switch where the GEMM starts. The K-quants'
    /// eight-token kernels, against the GEMM (5632 × 2048 and 2048 × 5632, one core, in-process medians of seven to
    /// nine alternations): Q4_K (<see cref="BlockQ4_K.DotQ8_K8"/>) 1.39–1.48× at 16 tokens, 1.13× at 64, 1.08–1.16× at
    /// 512, so it never switches; Q6_K (<see cref="BlockQ6_K.DotQ8_K8"/>, ~60 GFLOP/s at any count) 1.7–1.8× at 8,
    /// 1.22–1.27× at 16, 0.91–0.96× at 24 (a whole micro-tile of the GEMM) and 0.73–0.82× from 64; Q5_K
    /// (<see cref="BlockQ5_K.DotQ8_K8"/>) 1.9–2.0× at 8, 1.14–1.19× at 16, 0.81–0.91× from 64: both switch at 24.
    /// Q2_K and Q3_K, four tokens a pass (<see cref="BlockQ2_K.DotQ8_K4"/>, <see cref="BlockQ3_K.DotQ8_K4"/>), against
    /// the float tiles and GEMM (kbench, one core, 5632 × 2048): 1.6× (Q3_K) and 2.5× (Q2_K) at 4 tokens, 2.0× and
    /// 1.7–2.2× at 8, even at 16 (0.98–1.08×); eight a pass (<see cref="BlockQ2_K.DotQ8_K8"/>,
    /// <see cref="BlockQ3_K.DotQ8_K8"/>) at 16: 1.0–1.1× (Q2_K) and 1.17–1.33× (Q3_K) best-of-200, 1.2× in the means:
    /// they switch at 24. IQ4_XS (<see cref="BlockIQ4_XS.DotQ8_K4"/>): 1.8–1.9× at
    /// 4, 1.4× at 8, 0.95–0.97× at 12: it switches at 12. Other types switch at 4.
    /// Where the machine has AVX-VNNI or AVX-512, the Q8_0 family, IQ4_XS and the K-quants Q2_K to Q6_K keep the integer path at every
    /// count: from <see cref="Int8GemmMinTokens"/> on they run an integer GEMM (see <see cref="UsesInt8Gemm"/>).
    /// With 512-bit vectors (Zen 5, kbench, two threads, 5632 × 2048) the GEMM's Vector512 kernels overtake Q4_K's too:
    /// the integer kernels ran 230–240 GFLOP/s at any count from 4, the GEMM 223 at 16 and 300 at 512, so where 512-bit
    /// vectors have no integer GEMM Q4_K switches at 24 like Q5_K and Q6_K. Since AVX-512 machines without AVX-VNNI
    /// got the 512-bit integer GEMMs, that is only a test's V512 run in software on a machine without AVX-512BW.
    /// </summary>
    public static int Int8MaxTokens(GgmlType type, SimdWidth width) => type switch
    {
        GgmlType.Q4_K => UsesInt8Gemm(type, width) || width < SimdWidth.V512 ? int.MaxValue : 24,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q5_K or GgmlType.Q6_K => UsesInt8Gemm(type, width) ? int.MaxValue : 24,
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.IQ4_NL => UsesInt8Gemm(type, width) ? int.MaxValue : GemmMinTokens,
        GgmlType.IQ4_XS => UsesInt8Gemm(type, width) ? int.MaxValue : 12,
        _ => TiledMinTokens,
    };

    /// <summary>
    /// Whether products of <paramref name="type"/> with at least <see cref="Int8GemmMinTokens"/> tokens on the integer path run
    /// an integer GEMM: <see cref="Q8_0Gemm"/> for the Q8_0 family (Q4_0, Q5_0, Q8_0, IQ4_NL; IQ4_XS per sub-block of 32), <see cref="KQuantGemm"/> for
    /// the K-quants Q2_K to Q6_K, on machines with AVX-VNNI, or with AVX-512 but without AVX-VNNI in .NET's reach (Zen 4),
    /// where their 512-bit forms run (<see cref="Q8_0Gemm.UsesWideKernel"/>).
    /// </summary>
    public static bool UsesInt8Gemm(GgmlType type, SimdWidth width) =>
        type is GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.IQ4_NL or GgmlType.IQ4_XS
            or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K
        && Q8_0Gemm.IsSupported(width);

    /// <summary>
    /// Tokens from which <paramref name="type"/>'s integer GEMM runs (where <see cref="UsesInt8Gemm"/>): 8 for the Q8_0
    /// family and IQ4_XS (four-token kernels below it, as the Q8_0 family's), 16 for the K-quants, whose eight-token
    /// kernels are as fast at 8 and 12 (kbench, Zen 5, two threads,
    /// 5632 × 2048: 235–243 GFLOP/s; half of a 16-token group would be padding there). At 16 the GEMM runs Q4_K at
    /// 390–437 and Q6_K at 327–361, at 512 at 489 and 449, where the float GEMM ran 280–300.
    /// </summary>
    public static int Int8GemmMinTokens(GgmlType type) => IsKQuantGemm(type) ? 16 : GemmMinTokens;

    /// <summary>Whether <paramref name="type"/>'s integer GEMM is <see cref="KQuantGemm"/> (else <see cref="Q8_0Gemm"/>).</summary>
    public static bool IsKQuantGemm(GgmlType type) => type is GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>The offset of <paramref name="type"/>'s weights in <see cref="Q8_0Gemm"/>'s unsigned form.</summary>
    public static int Int8GemmOffset(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => Q8_0Gemm.Offset<BlockQ4_0.Weights>(),
        GgmlType.Q5_0 => Q8_0Gemm.Offset<BlockQ5_0.GemmWeights>(),
        GgmlType.Q8_0 => Q8_0Gemm.Offset<BlockQ8_0.Weights>(),
        _ => Q8_0Gemm.Offset<BlockIQ4_NL.Weights>(), // IQ4_NL, and IQ4_XS unpacked as its levels
    };

    /// <summary>Weight rows dequantized and multiplied together by the register kernel.</summary>
    public const int RowGroup = 4;

    /// <summary>Rows of the GEMM's row group for a block of at most 16 tokens with Vector512 tiles (<see cref="Kernel8x16Pairs"/>).</summary>
    private const int WideRowGroup = 2 * RowGroup;

    /// <summary>Bytes of activations per token tile (kept in L2 while the row groups sweep it).</summary>
    private const int TileBytes = 256 * 1024;

    /// <summary>
    /// Per-thread buffer of up to <see cref="WideRowGroup"/> dequantized rows and a zero row (pinned, used from its first
    /// 64-byte boundary on); grows to the widest matrix seen, then stays.
    /// </summary>
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
    private readonly RowChunks _chunks;
    private readonly int _tokenTile;
    private readonly byte* _activations;       // [n, activationRowBytes] quantized x (F16 weights: x · 2^112), or null for the float path
    private readonly long _activationRowBytes;
    private readonly float* _packedTokens;     // the GEMM's tokens, packed by PackTokens (n ≥ GemmMinTokens)
    private readonly SimdWidth _width;         // the widest vectors the kernels may use (Simd.Best; V512 in tests runs in software)
    private readonly bool _int8Gemm;           // _activations are packed groups of tokens for Q8_0Gemm or KQuantGemm
    private readonly bool _prescaledTokens;    // _packedTokens carry 2^112 and F16 rows widen to w · 2^-112 (RowF16.WidenScaledDown)

    public MatMulWork(GgmlType type, byte* weights, long rowBytes, int rows, int cols, float* x, float* y, int n, RowChunks chunks, SimdWidth width)
    {
        _type = type;
        _weights = weights;
        _rowBytes = rowBytes;
        _rows = rows;
        _cols = cols;
        _x = x;
        _y = y;
        _n = n;
        _chunks = chunks;
        _tokenTile = Math.Max(2, TileBytes / (cols * sizeof(float)));
        _activations = null;
        _activationRowBytes = 0;
        _packedTokens = null;
        _width = width;
        _int8Gemm = false;
    }

    private MatMulWork(in MatMulWork work, byte* activations, long activationRowBytes)
    {
        this = work;
        _activations = activations;
        _activationRowBytes = activationRowBytes;
        _tokenTile = (int)Math.Max(8, TileBytes / activationRowBytes / 8 * 8); // whole passes of the eight-token kernel
    }

    private MatMulWork(in MatMulWork work, byte* int8GemmTokens)
    {
        this = work;
        _activations = int8GemmTokens;
        _activationRowBytes = 0;
        _int8Gemm = true;
    }

    private MatMulWork(in MatMulWork work, float* packedTokens, bool prescaled)
    {
        this = work;
        _packedTokens = packedTokens;
        _prescaledTokens = prescaled;
    }

    /// <summary>Whether the GEMM runs the Vector512 kernels, on tokens packed in micro-tiles of 48 (else 24).</summary>
    public bool WideTiles => _width >= SimdWidth.V512;

    /// <summary>
    /// This job on the GEMM path, with the tokens already packed by <see cref="PackTokens"/> in micro-tiles of
    /// <see cref="MicroTileTokens"/>(<see cref="WideTiles"/>).
    /// </summary>
    public MatMulWork WithPackedTokens(float* packedTokens) => new(this, packedTokens, prescaled: false);

    /// <summary>
    /// <see cref="WithPackedTokens"/> for F16 weights with wide tiles, the packed tokens multiplied by 2^112
    /// (<see cref="RowF16.TryPrescale"/>): rows then widen to w · 2^-112 (<see cref="RowF16.WidenScaledDown"/>), the same
    /// products for fewer instructions.
    /// </summary>
    public MatMulWork WithPrescaledPackedTokens(float* packedTokens)
    {
        Debug.Assert(_type == GgmlType.F16 && WideTiles, "only F16 rows widen scaled down, and only the wide tiles ask for it");
        return new(this, packedTokens, prescaled: true);
    }

    /// <summary>Whether this job's products would take <see cref="WithPrescaledPackedTokens"/> (F16 weights, wide tiles).</summary>
    public bool PrescalesPackedTokens => _type == GgmlType.F16 && WideTiles;

    /// <summary>This job on <see cref="Q8_0Gemm"/>, with the tokens already quantized and packed by <see cref="Int8GemmTokensWork"/>.</summary>
    public MatMulWork WithInt8Gemm(byte* packed) => new(this, packed);

    /// <summary>This job on the integer path, with the tokens already quantized.</summary>
    public MatMulWork WithActivations(byte* activations, long activationRowBytes) => new(this, activations, activationRowBytes);

    public void Execute(int chunkIndex)
    {
        _chunks.Range(chunkIndex, out int r0, out int r1);
        Debug.Assert(r0 < r1, "Chunk index past the last row.");
        if (_int8Gemm)
        {
            Int8GemmRows(r0, r1);
        }
        else if (_activations != null && _type == GgmlType.F16)
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
        else if (_packedTokens == null)
        {
            DotTiledRows(r0, r1);
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
                _y[((long)t * _rows) + r] = MatMul.DotUnchecked(_type, row, x, _width);
            }
        }
    }

    /// <summary>The integer path: each row against each quantized token, tokens tiled to stay in L2.</summary>
    private void Int8Rows(int r0, int r1)
    {
        int blocks = _cols / QuantTraits.Get(_type).BlockSize;
        float* results = stackalloc float[8]; // the four- and eight-token kernels' results (allocated once: not in the loop)
        for (int t0 = 0; t0 < _n; t0 += _tokenTile)
        {
            int t1 = Math.Min(_n, t0 + _tokenTile);

            // The one-token kernels ask for their weights as they go (Simd.PrefetchAhead); the four- and eight-token
            // kernels do not, so their rows are asked for a few rows ahead.
            bool prefetchRows = t1 - t0 >= 4;
            for (int r = r0; r < r1; r++)
            {
                if (prefetchRows && r + PrefetchRows < r1)
                {
                    Prefetch(_weights + ((r + PrefetchRows) * _rowBytes), _rowBytes);
                }

                var row = new ReadOnlySpan<byte>(_weights + (r * _rowBytes), (int)_rowBytes);
                int t = t0;

                // Several tokens per pass over the row where the type has such kernels (bit-identical to one token
                // at a time): eight, then four, then one.
                byte* w = _weights + (r * _rowBytes);
                for (; t + 8 <= t1 && Dot8(w, _activations + (t * _activationRowBytes), blocks, results); t += 8)
                {
                    for (int i = 0; i < 8; i++)
                    {
                        _y[((long)(t + i) * _rows) + r] = results[i];
                    }
                }

                for (; t + 4 <= t1 && Dot4(w, _activations + (t * _activationRowBytes), blocks, results); t += 4)
                {
                    for (int i = 0; i < 4; i++)
                    {
                        _y[((long)(t + i) * _rows) + r] = results[i];
                    }
                }

                for (; t < t1; t++)
                {
                    var activations = new ReadOnlySpan<byte>(_activations + (t * _activationRowBytes), (int)_activationRowBytes);
                    _y[((long)t * _rows) + r] = MatMul.DotInt8Unchecked(_type, row, activations, blocks, _width);
                }
            }
        }
    }

    /// <summary>
    /// This thread's <see cref="_scratch"/> from its first 64-byte boundary: <see cref="RowGroup"/> dequantized rows (the
    /// GEMM's row group: 4, or 8 with <see cref="Kernel8x16Pairs"/>), then a row the GEMM keeps zero. Aligned because the dequantization stores whole vectors into it, and a managed array
    /// starts wherever the heap put it (8-byte aligned), so half of those stores straddled two cache lines. With the
    /// faster dequantization, a 16-token Q8_0 product went from 61–63 to 69–74 GFLOP/s on a core (kbench, S shapes).
    /// </summary>
    private float* RowScratch()
    {
        int floats = ((WideRowGroup + 1) * _cols) + (CacheLineBytes / sizeof(float));
        if (_scratch is not { } s || s.Length < floats)
        {
            _scratch = s = GC.AllocateUninitializedArray<float>(floats, pinned: true);
        }

        return (float*)AlignUp(Unsafe.AsPointer(ref s[0]));
    }

    /// <summary>Bytes of a cache line: the alignment of the scratch rows and of the activation buffers.</summary>
    internal const int CacheLineBytes = 64;

    /// <summary>The first cache-line boundary at or after <paramref name="p"/>.</summary>
    internal static void* AlignUp(void* p) => (void*)(((nuint)p + (CacheLineBytes - 1)) & ~(nuint)(CacheLineBytes - 1));

    /// <summary>
    /// Points <c>w[i]</c> at weight row r + i for i &lt; count, as floats: F32 rows in place, others dequantized into
    /// <c>buffer + i · cols</c> (the tiled paths' row group).
    /// </summary>
    private void LoadRows(int r, int count, float* buffer, float** w)
    {
        for (int i = 0; i < count; i++)
        {
            byte* row = _weights + ((r + i) * _rowBytes);
            if (_type == GgmlType.F32)
            {
                w[i] = (float*)row;
            }
            else
            {
                w[i] = buffer + (i * _cols);
                if (_prescaledTokens)
                {
                    RowF16.WidenScaledDown((ushort*)row, w[i], _cols, _width);
                }
                else
                {
                    Dequantize.RowUnchecked(_type, new ReadOnlySpan<byte>(row, (int)_rowBytes), new Span<float>(w[i], _cols), _width);
                }
            }
        }
    }

    /// <summary>One row with eight quantized tokens, where the type has such a kernel; false (nothing done) where not.</summary>
    private bool Dot8(byte* row, byte* activations, int blocks, float* results)
    {
        switch (_type)
        {
            case GgmlType.Q4_K: BlockQ4_K.DotQ8_K8(row, activations, _activationRowBytes, blocks, results, _width); return true;
            case GgmlType.Q5_K: BlockQ5_K.DotQ8_K8(row, activations, _activationRowBytes, blocks, results, _width); return true;
            case GgmlType.Q6_K: BlockQ6_K.DotQ8_K8(row, activations, _activationRowBytes, blocks, results, _width); return true;
            case GgmlType.Q2_K: BlockQ2_K.DotQ8_K8(row, activations, _activationRowBytes, blocks, results); return true;
            case GgmlType.Q3_K: BlockQ3_K.DotQ8_K8(row, activations, _activationRowBytes, blocks, results); return true;
            default: return false;
        }
    }

    /// <summary>One row with four quantized tokens, where the type has such a kernel; false (nothing done) where not.</summary>
    private bool Dot4(byte* row, byte* activations, int blocks, float* results)
    {
        switch (_type)
        {
            case GgmlType.Q4_K: BlockQ4_K.DotQ8_K4(row, activations, _activationRowBytes, blocks, results, _width); return true;
            case GgmlType.Q5_K: BlockQ5_K.DotQ8_K4(row, activations, _activationRowBytes, blocks, results, _width); return true;
            case GgmlType.Q6_K: BlockQ6_K.DotQ8_K4(row, activations, _activationRowBytes, blocks, results, _width); return true;
            case GgmlType.Q2_K: BlockQ2_K.DotQ8_K4(row, activations, _activationRowBytes, blocks, results); return true;
            case GgmlType.Q3_K: BlockQ3_K.DotQ8_K4(row, activations, _activationRowBytes, blocks, results); return true;
            case GgmlType.IQ4_XS: BlockIQ4_XS.DotQ8_K4(row, activations, _activationRowBytes, blocks, results); return true;
            case GgmlType.Q4_0: Q8_0Activations.Dot4<BlockQ4_0.Weights>(row, activations, _activationRowBytes, blocks, results, _width); return true;
            case GgmlType.Q5_0: Q8_0Activations.Dot4<BlockQ5_0.Weights>(row, activations, _activationRowBytes, blocks, results, _width); return true;
            case GgmlType.Q8_0: Q8_0Activations.Dot4<BlockQ8_0.Weights>(row, activations, _activationRowBytes, blocks, results, _width); return true;
            case GgmlType.IQ4_NL: Q8_0Activations.Dot4<BlockIQ4_NL.Weights>(row, activations, _activationRowBytes, blocks, results, _width); return true;
            default: return false;
        }
    }

    /// <summary>How many rows ahead the decode paths ask for weights (software prefetch).</summary>
    private const int PrefetchRows = 4;

    /// <summary>
    /// Asks for the cache lines of a row that will be read a few rows from now, for the multi-token kernels, which
    /// (unlike the one-token ones, see <see cref="Simd.PrefetchAhead(void*, int)"/>) do not prefetch themselves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(byte* start, long bytes)
    {
        if (Sse.IsSupported)
        {
            for (long offset = 0; offset < bytes; offset += 64)
            {
                Sse.Prefetch0(start + offset);
            }
        }
    }

    /// <summary>Asks for the cache lines of <paramref name="bytes"/> bytes from <paramref name="start"/> into L2 (<c>prefetcht1</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchL2(byte* start, long bytes)
    {
        if (Sse.IsSupported)
        {
            for (long offset = 0; offset < bytes; offset += 64)
            {
                Sse.Prefetch1(start + offset);
            }
        }
    }

    /// <summary>F16 decode (below <see cref="TiledMinTokens"/> tokens): rows against tokens prescaled by 2^112, two tokens per widening (see <see cref="RowF16.DotPrescaled2"/>).</summary>
    private void PrescaledF16Rows(int r0, int r1)
    {
        float* scaled = (float*)_activations;
        for (int r = r0; r < r1; r++)
        {
            ushort* row = (ushort*)(_weights + (r * _rowBytes));
            int t = 0;
            for (; t + 2 <= _n; t += 2)
            {
                long offset = (long)t * _cols;
                RowF16.DotPrescaled2(row, scaled + offset, _x + offset, scaled + offset + _cols, _x + offset + _cols, _cols, _width,
                    out _y[((long)t * _rows) + r], out _y[((long)(t + 1) * _rows) + r]);
            }

            if (t < _n)
            {
                long offset = (long)t * _cols;
                _y[((long)t * _rows) + r] = RowF16.DotPrescaled(row, scaled + offset, _x + offset, _cols, _width);
            }
        }
    }
}
