using System.Runtime.Intrinsics;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

/// <summary>
/// The integer GEMMs (<see cref="Q8_0Gemm"/> for the Q8_0 family, <see cref="KQuantGemm"/> for Q2_K to Q6_K): packing,
/// unpacking and the 2 × 16 kernels against the scalar definitions of their results. Runs on every machine with AVX2 (without AVX-VNNI, <see cref="Int8Simd.DotSumAdd"/> is the
/// scalar form of the instruction, and the 512-bit kernels emulate AVX-512 on AVX2; without AVX2 the kernel tests return at once, as MatMul never runs the GEMMs there); MatMul takes the 512-bit kernels on
/// AVX-512 machines (on those with AVX-VNNI only for weights of at most six bits) and the VNNI kernels elsewhere, and
/// Int8DotTests hold whichever runs to the exact product.
/// </summary>
public sealed unsafe class Int8GemmTests
{
    [Theory]
    [InlineData(GgmlType.Q4_0, false)]
    [InlineData(GgmlType.Q5_0, false)]
    [InlineData(GgmlType.Q8_0, false)]
    [InlineData(GgmlType.IQ4_NL, false)]
    [InlineData(GgmlType.Q4_0, true)]
    [InlineData(GgmlType.Q5_0, true)]
    [InlineData(GgmlType.Q8_0, true)]
    [InlineData(GgmlType.IQ4_NL, true)]
    public void Kernel_GivesEachTokenItsBlockByBlockSum(GgmlType type, bool wide)
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            return; // the GEMMs run on AVX-VNNI or AVX-512 machines; in software here their kernels still need AVX2
        }

        // acc_t = Σ_b (float)(Σ_j v_w · q_t) · (d_w · d_t), block after block (17 blocks: the scales widened four at a
        // time and one by one): the integer sums exact (weights of every
        // byte value, Q8_0's −128 included), padding tokens zero. 3 rows: the last pair is one row twice.
        var rng = new Random(120 + (int)type);
        const int rows = 3;
        foreach (int blocks in new[] { 1, 3, 5, 17 })
        {
            int cols = blocks * 32;
            var weights = TestData.RandomRow(type, rows * cols, rng);
            var w = TestData.DequantizeReference(type, weights, rows * cols);
            long rowBytes = QuantTraits.RowBytes(type, cols);
            foreach (int n in new[] { 1, 5, 16, 19 })
            {
                var x = TestData.Floats(rng, n * cols, 2);
                var activations = Quantized(x, n, blocks, out long activationBytes);

                var packed = new byte[Q8_0Gemm.PackedBytes(n, blocks)];
                Array.Fill(packed, (byte)0xFF); // a reused buffer: padding must be written, not assumed
                int unpackedBytes = UnpackedRowBytes(type, blocks, wide);
                var unpacked = new byte[2 * unpackedBytes];
                var out0 = new float[16];
                var out1 = new float[16];
                fixed (byte* a = activations)
                fixed (byte* p = packed)
                fixed (byte* wp = weights)
                fixed (byte* u = unpacked)
                fixed (float* o0 = out0)
                fixed (float* o1 = out1)
                {
                    Q8_0Gemm.Pack(a, activationBytes, n, blocks, MatMulWork.Int8GemmOffset(type), p);
                    byte* u1 = u + unpackedBytes;
                    for (int r = 0; r < rows; r += 2)
                    {
                        int second = Math.Min(r + 1, rows - 1);
                        UnpackRow(type, wp + (r * rowBytes), blocks, u, wide);
                        UnpackRow(type, wp + (second * rowBytes), blocks, u1, wide);
                        for (int g = 0; g < (n + 15) / 16; g++)
                        {
                            Kernel(type, u, u1, blocks, p + ((long)g * blocks * Q8_0Gemm.BlockStride), o0, o1, wide);
                            for (int j = 0; j < 16; j++)
                            {
                                int t = (g * 16) + j;
                                float e0 = t < n ? Expected(weights, w, r, rowBytes, activations, activationBytes, t, blocks) : 0;
                                float e1 = t < n ? Expected(weights, w, second, rowBytes, activations, activationBytes, t, blocks) : 0;
                                Assert.True(e0 == out0[j], $"{type} wide={wide} blocks={blocks} n={n} r={r} t={t}: {out0[j]} != {e0}");
                                Assert.True(e1 == out1[j], $"{type} wide={wide} blocks={blocks} n={n} r={second} t={t}: {out1[j]} != {e1}");
                            }
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IQ4_XS_UnpacksToLevelsPerSubBlock_AndTheKernelSumsThemExactly(bool wide)
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            return; // the GEMMs run on AVX-VNNI or AVX-512 machines; in software here their kernels still need AVX2
        }

        // Each sub-block of 32 becomes a block of the Q8_0 family's unpacked row: its levels + 128 (split into nibbles for
        // the 512-bit kernel) and the float d · (ls − 32), so that (u − 128) · scale is the reference dequantization
        // bit for bit; the kernel then gives acc = fma((float)Σ (u − 128) · q, scale_b · d_t, acc), block after block.
        var rng = new Random(160);
        const int rows = 3;
        foreach (int superBlocks in new[] { 1, 3 })
        {
            int cols = superBlocks * 256;
            int blocks = cols / 32;
            var weights = TestData.RandomRow(GgmlType.IQ4_XS, rows * cols, rng);
            var w = TestData.DequantizeReference(GgmlType.IQ4_XS, weights, rows * cols);
            long rowBytes = QuantTraits.RowBytes(GgmlType.IQ4_XS, cols);
            int valueBytes = wide ? 64 : 32;
            int unpackedBytes = (blocks * valueBytes) + (blocks * sizeof(float));
            var unpacked = new byte[rows * unpackedBytes];
            fixed (byte* wp = weights)
            fixed (byte* u = unpacked)
            {
                for (int r = 0; r < rows; r++)
                {
                    BlockIQ4_XS.UnpackGemmRow(wp + (r * rowBytes), superBlocks, u + (r * unpackedBytes), wide);
                }
            }

            int Level(int r, int j)
            {
                int at = (r * unpackedBytes) + ((j / 32) * valueBytes) + (j % 32);
                return (wide ? unpacked[at] | (unpacked[at + 32] << 4) : unpacked[at]) - 128;
            }

            float Scale(int r, int b) => BitConverter.ToSingle(unpacked, (r * unpackedBytes) + (blocks * valueBytes) + (4 * b));
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < cols; j++)
                {
                    Assert.Equal(w[(r * cols) + j], Scale(r, j / 32) * Level(r, j));
                }
            }

            foreach (int n in new[] { 1, 16, 19 })
            {
                var x = TestData.Floats(rng, n * cols, 2);
                var activations = Quantized(x, n, blocks, out long activationBytes);
                var packed = new byte[Q8_0Gemm.PackedBytes(n, blocks)];
                var out0 = new float[16];
                var out1 = new float[16];
                fixed (byte* a = activations)
                fixed (byte* p = packed)
                fixed (byte* u = unpacked)
                fixed (float* o0 = out0)
                fixed (float* o1 = out1)
                {
                    Q8_0Gemm.Pack(a, activationBytes, n, blocks, MatMulWork.Int8GemmOffset(GgmlType.IQ4_XS), p);
                    for (int g = 0; g < (n + 15) / 16; g++)
                    {
                        Kernel(GgmlType.IQ4_NL, u, u + (2 * unpackedBytes), blocks, p + ((long)g * blocks * Q8_0Gemm.BlockStride), o0, o1, wide);
                        for (int j = 0; j < 16; j++)
                        {
                            int t = (g * 16) + j;
                            foreach (var (r, actual) in new[] { (0, out0[j]), (2, out1[j]) })
                            {
                                float expected = 0;
                                for (int b = 0; t < n && b < blocks; b++)
                                {
                                    float dx = BitConverter.ToSingle(activations, (int)((t * activationBytes) + (blocks * 34) + (b * 4)));
                                    int sum = 0;
                                    for (int k = 0; k < 32; k++)
                                    {
                                        sum += Level(r, (b * 32) + k) * (sbyte)activations[(t * activationBytes) + (b * 34) + 2 + k];
                                    }

                                    expected = MathF.FusedMultiplyAdd(sum, Scale(r, b) * dx, expected);
                                }

                                Assert.True(expected == actual, $"wide={wide} cols={cols} n={n} r={r} t={t}: {actual} != {expected}");
                            }
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q2_K, false)]
    [InlineData(GgmlType.Q3_K, false)]
    [InlineData(GgmlType.Q4_K, false)]
    [InlineData(GgmlType.Q5_K, false)]
    [InlineData(GgmlType.Q6_K, false)]
    [InlineData(GgmlType.Q2_K, true)]
    [InlineData(GgmlType.Q3_K, true)]
    [InlineData(GgmlType.Q4_K, true)]
    [InlineData(GgmlType.Q5_K, true)]
    [InlineData(GgmlType.Q6_K, true)]
    public void KQuantGemm_UnpacksToTheReferenceValuesAndSumsSubBlockBySubBlock(GgmlType type, bool wide)
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            return; // the GEMMs run on AVX-VNNI or AVX-512 machines; in software here their kernels still need AVX2
        }

        // Unpack: a_s · u + b_s is the reference dequantization (to float rounding). Kernel: per sub-block s and token t,
        // acc = fma(b_s, d_t · Σ q, fma((float)Σ u · q, a_s · d_t, acc)), exactly (Q6_K and Q3_K, b = −o · a with
        // o = 32 and 4: acc = fma((float)Σ (u − o) · q, a_s · d_t, acc)); padding tokens zero.
        var rng = new Random(140 + (int)type);
        const int rows = 3;
        int subBlock = type is GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q6_K ? 16 : 32;
        foreach (int superBlocks in new[] { 1, 2 })
        {
            int cols = superBlocks * 256;
            int blocks = cols / 32;
            var weights = TestData.RandomRow(type, rows * cols, rng);
            var w = TestData.DequantizeReference(type, weights, rows * cols);
            long rowBytes = QuantTraits.RowBytes(type, cols);
            int unpackedBytes = KQuantGemm.UnpackedRowBytes(cols);
            var unpacked = new byte[rows * unpackedBytes];
            fixed (byte* wp = weights)
            fixed (byte* u = unpacked)
            {
                for (int r = 0; r < rows; r++)
                {
                    KUnpackRow(type, wp + (r * rowBytes), cols, u + (r * unpackedBytes));
                }
            }

            for (int r = 0; r < rows; r++)
            {
                var (values, a, b) = Unpacked(unpacked, r * unpackedBytes, cols, subBlock);
                for (int j = 0; j < cols; j++)
                {
                    double expected = w[(r * cols) + j];
                    double actual = ((double)a[j / subBlock] * values[j]) + b[j / subBlock];
                    Assert.True(Math.Abs(actual - expected) <= 1e-6 * (Math.Abs(a[j / subBlock] * values[j]) + Math.Abs(b[j / subBlock])) + 1e-30,
                        $"{type} r={r} j={j}: {actual} != {expected}");
                }
            }

            foreach (int n in new[] { 1, 16, 21 })
            {
                var x = TestData.Floats(rng, n * cols, 2);
                var activations = Quantized(x, n, blocks, out long activationBytes);

                var packed = new byte[KQuantGemm.PackedBytes(n, blocks)];
                Array.Fill(packed, (byte)0xFF); // a reused buffer: padding must be written, not assumed
                var out0 = new float[16];
                var out1 = new float[16];
                fixed (byte* act = activations)
                fixed (byte* p = packed)
                fixed (byte* u = unpacked)
                fixed (float* o0 = out0)
                fixed (float* o1 = out1)
                {
                    KQuantGemm.Pack(act, activationBytes, n, blocks, p);
                    for (int r = 0; r < rows; r += 2)
                    {
                        int second = Math.Min(r + 1, rows - 1);
                        for (int g = 0; g < (n + 15) / 16; g++)
                        {
                            KKernel(type, u + (r * unpackedBytes), u + (second * unpackedBytes), cols, p + ((long)g * blocks * KQuantGemm.BlockStride), o0, o1, wide);
                            for (int j = 0; j < 16; j++)
                            {
                                int t = (g * 16) + j;
                                float e0 = t < n ? KExpected(type, unpacked, r * unpackedBytes, cols, subBlock, activations, t * activationBytes, blocks) : 0;
                                float e1 = t < n ? KExpected(type, unpacked, second * unpackedBytes, cols, subBlock, activations, t * activationBytes, blocks) : 0;
                                Assert.True(e0 == out0[j], $"{type} wide={wide} cols={cols} n={n} r={r} t={t}: {out0[j]} != {e0}");
                                Assert.True(e1 == out1[j], $"{type} wide={wide} cols={cols} n={n} r={second} t={t}: {out1[j]} != {e1}");
                            }
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.IQ4_NL)]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    public void WideKernels_MatchTheVnniKernels_AtTheEdgesOfTheInt16Sums(GgmlType type)
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            return; // the GEMMs run on AVX-VNNI or AVX-512 machines; in software here their kernels still need AVX2
        }

        // The 512-bit kernels sum vpmaddubsw's pairs in int16 for as many steps as the values' range allows: with every
        // weight at its largest value and every token's quants at +127 (or −128, which Q8_0's rounding never makes), those
        // sums reach 30480–32256 of int16's 32767. Unpacked rows and packed tokens are made up directly here (any bytes
        // are valid inputs to the kernels), and both kernels must give the same bits.
        var rng = new Random(150 + (int)type);
        bool kQuant = MatMulWork.IsKQuantGemm(type);
        int bits = type switch
        {
            // The GEMM's Q5_0 is the stored 5-bit q (offset 16); Q8_0 and IQ4_NL unpack as v + 128, 8-bit values.
            GgmlType.Q2_K => 2,
            GgmlType.Q3_K => 3,
            GgmlType.Q4_0 or GgmlType.Q4_K => 4,
            GgmlType.Q5_0 or GgmlType.Q5_K => 5,
            GgmlType.Q6_K => 6,
            _ => 8,
        };
        int cols = 512;
        int blocks = cols / 32;
        int blockStride = kQuant ? KQuantGemm.BlockStride : Q8_0Gemm.BlockStride;
        int narrowBytes = kQuant ? KQuantGemm.UnpackedRowBytes(cols) : Q8_0Gemm.UnpackedRowBytes(blocks);
        int wideBytes = kQuant ? narrowBytes : UnpackedRowBytes(type, blocks, wide: true);
        for (int round = 0; round < 12; round++)
        {
            var narrow = new byte[2 * narrowBytes];
            var wideRows = new byte[2 * wideBytes];
            var group = new byte[blocks * blockStride];
            for (int r = 0; r < 2; r++)
            {
                for (int j = 0; j < cols; j++)
                {
                    narrow[(r * narrowBytes) + j] = (byte)(round < 8 || rng.Next(4) > 0 ? (1 << bits) - 1 : rng.Next(1 << bits));
                }

                // Scales (and offsets) after the values: random floats of either sign.
                for (int at = (r * narrowBytes) + cols; at + 4 <= (r + 1) * narrowBytes; at += 4)
                {
                    BitConverter.TryWriteBytes(narrow.AsSpan(at), (float)((rng.NextDouble() * 2) - 1));
                }

                if (kQuant)
                {
                    continue;
                }

                // The wide layout of the 8-bit types: per block lo[32], hi[32]; then the scales.
                int wideValues = bits == 8 ? 64 : 32;
                for (int b = 0; b < blocks; b++)
                {
                    for (int j = 0; j < 32; j++)
                    {
                        byte u = narrow[(r * narrowBytes) + (b * 32) + j];
                        if (bits == 8)
                        {
                            wideRows[(r * wideBytes) + (b * 64) + j] = (byte)(u & 15);
                            wideRows[(r * wideBytes) + (b * 64) + 32 + j] = (byte)(u >> 4);
                        }
                        else
                        {
                            wideRows[(r * wideBytes) + (b * 32) + j] = u;
                        }
                    }
                }

                narrow.AsSpan((r * narrowBytes) + cols, blocks * 4).CopyTo(wideRows.AsSpan((r * wideBytes) + (blocks * wideValues)));
            }

            if (kQuant)
            {
                narrow.CopyTo(wideRows, 0);
            }

            // Packed tokens: quants all +127, all −128, or random; then the scales, sums and starts of the layout.
            for (int b = 0; b < blocks; b++)
            {
                var block = group.AsSpan(b * blockStride, blockStride);
                for (int i = 0; i < 512; i++)
                {
                    block[i] = (byte)(sbyte)(round % 4 == 0 ? 127 : round % 4 == 1 ? -128 : rng.Next(-128, 128));
                }

                for (int at = 512; at < blockStride; at += 4)
                {
                    bool integer = kQuant ? at >= 768 : at >= 576;
                    if (integer)
                    {
                        BitConverter.TryWriteBytes(block[at..], rng.Next(-4096, 4096));
                    }
                    else
                    {
                        BitConverter.TryWriteBytes(block[at..], (float)((rng.NextDouble() * 2) - 1));
                    }
                }
            }

            var expected = new float[32];
            var actual = new float[32];
            fixed (byte* n = narrow)
            fixed (byte* w = wideRows)
            fixed (byte* g = group)
            fixed (float* e = expected)
            fixed (float* a = actual)
            {
                if (kQuant)
                {
                    KKernel(type, n, n + narrowBytes, cols, g, e, e + 16, wide: false);
                    KKernel(type, w, w + wideBytes, cols, g, a, a + 16, wide: true);
                }
                else
                {
                    Kernel(type, n, n + narrowBytes, blocks, g, e, e + 16, wide: false);
                    Kernel(type, w, w + wideBytes, blocks, g, a, a + 16, wide: true);
                }
            }

            for (int i = 0; i < 32; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{type} round={round} out={i}: {actual[i]} != {expected[i]}");
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    public void FourRowKernel_GivesThePairKernelsBits(GgmlType type)
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            return; // the GEMMs run on AVX-VNNI or AVX-512 machines; in software here their kernels still need AVX2
        }

        // The four-row kernels read each zmm of tokens once for four rows; per row they must do the pair kernel's
        // operations in its order: the same bits, with the values at their largest (the int16 sums' edge) or random, the
        // tokens' quants at +127, −128 or random, rows apart by a stride and results apart by another.
        var rng = new Random(160 + (int)type);
        bool kQuant = MatMulWork.IsKQuantGemm(type);
        int bits = type switch { GgmlType.Q2_K => 2, GgmlType.Q3_K => 3, GgmlType.Q4_0 or GgmlType.Q4_K => 4, GgmlType.Q5_0 or GgmlType.Q5_K => 5, _ => 6 };
        const int cols = 768, outputStride = 24;
        int blocks = cols / 32;
        int rowBytes = kQuant ? KQuantGemm.UnpackedRowBytes(cols) : Q8_0Gemm.UnpackedRowBytes(blocks);
        int blockStride = kQuant ? KQuantGemm.BlockStride : Q8_0Gemm.BlockStride;
        int stride = rowBytes + 64;
        for (int round = 0; round < 6; round++)
        {
            var rows = new byte[4 * stride];
            for (int r = 0; r < 4; r++)
            {
                for (int j = 0; j < cols; j++)
                {
                    rows[(r * stride) + j] = (byte)(round < 3 || rng.Next(4) > 0 ? (1 << bits) - 1 : rng.Next(1 << bits));
                }

                for (int at = (r * stride) + cols; at + 4 <= (r * stride) + rowBytes; at += 4)
                {
                    BitConverter.TryWriteBytes(rows.AsSpan(at), (float)((rng.NextDouble() * 2) - 1));
                }
            }

            var group = new byte[blocks * blockStride];
            for (int b = 0; b < blocks; b++)
            {
                var block = group.AsSpan(b * blockStride, blockStride);
                for (int i = 0; i < 512; i++)
                {
                    block[i] = (byte)(sbyte)(round % 3 == 0 ? 127 : round % 3 == 1 ? -128 : rng.Next(-128, 128));
                }

                for (int at = 512; at < blockStride; at += 4)
                {
                    if (at >= (kQuant ? 768 : 576))
                    {
                        BitConverter.TryWriteBytes(block[at..], rng.Next(-4096, 4096));
                    }
                    else
                    {
                        BitConverter.TryWriteBytes(block[at..], (float)((rng.NextDouble() * 2) - 1));
                    }
                }
            }

            var expected = new float[64];
            var actual = new float[4 * outputStride];
            fixed (byte* u = rows)
            fixed (byte* g = group)
            fixed (float* e = expected)
            fixed (float* a = actual)
            {
                for (int pair = 0; pair < 2; pair++)
                {
                    byte* u0 = u + (2 * pair * stride);
                    float* e0 = e + (32 * pair);
                    if (kQuant)
                    {
                        KKernel(type, u0, u0 + stride, cols, g, e0, e0 + 16, wide: true);
                    }
                    else
                    {
                        Kernel(type, u0, u0 + stride, blocks, g, e0, e0 + 16, wide: true);
                    }
                }

                Kernel4(type, u, stride, cols, g, a, outputStride);
            }

            for (int r = 0; r < 4; r++)
            {
                for (int t = 0; t < 16; t++)
                {
                    float want = expected[(r * 16) + t];
                    float got = actual[(r * outputStride) + t];
                    Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got), $"{type} round={round} r={r} t={t}: {got} != {want}");
                }
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PackingInBlockRanges_GivesTheWholePacking(bool kQuant)
    {
        // Threads quantize and pack disjoint block ranges (Int8GemmTokensWork): the pieces must add up to the bytes of
        // one pass, padding tokens included, in a buffer that held something else before.
        var rng = new Random(150);
        const int blocks = 11;
        const int cols = blocks * 32;
        foreach (int n in new[] { 1, 16, 21 })
        {
            var x = TestData.Floats(rng, n * cols, 2);
            x[5] = 0; // an all-zero run and extremes inside blocks
            x[cols + 3 < x.Length ? cols + 3 : 0] = 1e4f;
            var whole = Quantized(x, n, blocks, out long rowBytes);
            var pieces = new byte[whole.Length];
            Array.Fill(pieces, (byte)0xA5);
            long packedBytes = kQuant ? KQuantGemm.PackedBytes(n, blocks) : Q8_0Gemm.PackedBytes(n, blocks);
            var packedWhole = new byte[packedBytes];
            var packedPieces = new byte[packedBytes];
            Array.Fill(packedWhole, (byte)0xFF);
            Array.Fill(packedPieces, (byte)0x5A);
            fixed (float* xp = x)
            fixed (byte* q = pieces)
            fixed (byte* qw = whole)
            fixed (byte* pw = packedWhole)
            fixed (byte* pp = packedPieces)
            {
                if (kQuant)
                {
                    KQuantGemm.Pack(qw, rowBytes, n, blocks, pw);
                }
                else
                {
                    Q8_0Gemm.Pack(qw, rowBytes, n, blocks, 8, pw);
                }

                var work = new Int8GemmTokensWork(xp, n, cols, q, rowBytes, pp, kQuant, kQuant ? 0 : 8, 4);
                Assert.Equal(4, work.ChunkCount); // 3 + 3 + 3 + 2 blocks
                for (int c = work.ChunkCount - 1; c >= 0; c--)
                {
                    work.Execute(c);
                }
            }

            Assert.Equal(whole, pieces);
            Assert.Equal(packedWhole, packedPieces);
        }
    }

    [Fact]
    public void QuantSum_IsTheSumOfTheSignedBytes()
    {
        var rng = new Random(151);
        foreach (int length in new[] { 16, 32, 7 })
        {
            for (int round = 0; round < 50; round++)
            {
                var q = new byte[length];
                rng.NextBytes(q);
                if (round == 0)
                {
                    Array.Fill(q, (byte)0x80); // −128 in every byte
                }
                else if (round == 1)
                {
                    Array.Fill(q, (byte)0x7F);
                }

                int expected = 0;
                foreach (byte b in q)
                {
                    expected += (sbyte)b;
                }

                Assert.Equal(expected, Q8_0Activations.QuantSum(q));
            }
        }
    }

    [Fact]
    public void UsesWideKernel_PrefersZmmForNarrowValuesAndVnniForBytes()
    {
        // The 512-bit kernels sum up to eight vpmaddubsw in int16 for 4-bit values but need two per product for 8-bit
        // ones, where AVX-VNNI's vpdpbusd on ymm wins; without AVX-VNNI they are the only integer GEMM at 512 bits.
        Assert.False(Q8_0Gemm.UsesWideKernel(SimdWidth.V256, 4));
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx512BW.IsSupported || !System.Runtime.Intrinsics.X86.AvxVnni.IsSupported, Q8_0Gemm.UsesWideKernel(SimdWidth.V512, 4));
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx512BW.IsSupported || !System.Runtime.Intrinsics.X86.AvxVnni.IsSupported, Q8_0Gemm.UsesWideKernel(SimdWidth.V512, 6));
        Assert.Equal(!System.Runtime.Intrinsics.X86.AvxVnni.IsSupported, Q8_0Gemm.UsesWideKernel(SimdWidth.V512, 8));
    }

    [Fact]
    public void DotSumAdd_IsTheExactFourByteDotOnAnyOperands()
    {
        // vpdpbusd does not saturate: u = 255 against s = −128 in all four bytes is −130560 added to the lane.
        var rng = new Random(130);
        var u = new byte[32];
        var s = new sbyte[32];
        var acc = new int[8];
        for (int round = 0; round < 200; round++)
        {
            for (int i = 0; i < 32; i++)
            {
                u[i] = round == 0 ? (byte)255 : (byte)rng.Next(256);
                s[i] = round == 0 ? (sbyte)-128 : (sbyte)rng.Next(-128, 128);
            }

            for (int i = 0; i < 8; i++)
            {
                acc[i] = rng.Next(-1 << 20, 1 << 20);
            }

            var result = Int8Simd.DotSumAdd(Vector256.Create<int>(acc), Vector256.Create<byte>(u), Vector256.Create<sbyte>(s));
            for (int i = 0; i < 8; i++)
            {
                int expected = acc[i];
                for (int j = 4 * i; j < (4 * i) + 4; j++)
                {
                    expected += u[j] * s[j];
                }

                Assert.Equal(expected, result.GetElement(i));
            }
        }
    }

    /// <summary>n tokens of <paramref name="blocks"/> blocks quantized by <see cref="Q8_0Activations.Quantize"/>, one after the other.</summary>
    private static byte[] Quantized(float[] x, int n, int blocks, out long activationBytes)
    {
        int cols = blocks * 32;
        activationBytes = Q8_0Activations.RowBytes(blocks);
        var activations = new byte[activationBytes * n];
        for (int t = 0; t < n; t++)
        {
            Q8_0Activations.Quantize(x.AsSpan(t * cols, cols), activations.AsSpan((int)(t * activationBytes), (int)activationBytes));
        }

        return activations;
    }

    private static int UnpackedRowBytes(GgmlType type, int blocks, bool wide) => !wide ? Q8_0Gemm.UnpackedRowBytes(blocks) : type switch
    {
        GgmlType.Q4_0 => Q8_0Gemm.UnpackedRowBytesWide<BlockQ4_0.Weights>(blocks),
        GgmlType.Q5_0 => Q8_0Gemm.UnpackedRowBytesWide<BlockQ5_0.GemmWeights>(blocks),
        GgmlType.Q8_0 => Q8_0Gemm.UnpackedRowBytesWide<BlockQ8_0.Weights>(blocks),
        _ => Q8_0Gemm.UnpackedRowBytesWide<BlockIQ4_NL.Weights>(blocks),
    };

    private static void UnpackRow(GgmlType type, byte* row, int blocks, byte* dst, bool wide)
    {
        switch (type)
        {
            case GgmlType.Q4_0: if (wide) { Q8_0Gemm.UnpackRowWide<BlockQ4_0.Weights>(row, blocks, dst); } else { Q8_0Gemm.UnpackRow<BlockQ4_0.Weights>(row, blocks, dst); } break;
            case GgmlType.Q5_0: if (wide) { Q8_0Gemm.UnpackRowWide<BlockQ5_0.GemmWeights>(row, blocks, dst); } else { Q8_0Gemm.UnpackRow<BlockQ5_0.GemmWeights>(row, blocks, dst); } break;
            case GgmlType.Q8_0: if (wide) { Q8_0Gemm.UnpackRowWide<BlockQ8_0.Weights>(row, blocks, dst); } else { Q8_0Gemm.UnpackRow<BlockQ8_0.Weights>(row, blocks, dst); } break;
            default: if (wide) { Q8_0Gemm.UnpackRowWide<BlockIQ4_NL.Weights>(row, blocks, dst); } else { Q8_0Gemm.UnpackRow<BlockIQ4_NL.Weights>(row, blocks, dst); } break;
        }
    }

    private static void Kernel(GgmlType type, byte* u0, byte* u1, int blocks, byte* group, float* out0, float* out1, bool wide)
    {
        if (!wide)
        {
            Q8_0Gemm.Kernel2x16(u0, u1, blocks, group, out0, out1);
            return;
        }

        switch (type)
        {
            case GgmlType.Q4_0: Q8_0Gemm.Kernel2x16Wide<BlockQ4_0.Weights>(u0, u1, blocks, group, out0, out1); break;
            case GgmlType.Q5_0: Q8_0Gemm.Kernel2x16Wide<BlockQ5_0.GemmWeights>(u0, u1, blocks, group, out0, out1); break;
            case GgmlType.Q8_0: Q8_0Gemm.Kernel2x16Wide<BlockQ8_0.Weights>(u0, u1, blocks, group, out0, out1); break;
            default: Q8_0Gemm.Kernel2x16Wide<BlockIQ4_NL.Weights>(u0, u1, blocks, group, out0, out1); break;
        }
    }

    private static void KUnpackRow(GgmlType type, byte* row, int cols, byte* dst)
    {
        switch (type)
        {
            case GgmlType.Q4_K: KQuantGemm.UnpackRow<KQuantGemmQ4_KFamily<BlockQ4_K.Chunks256>>(row, cols, dst); break;
            case GgmlType.Q5_K: KQuantGemm.UnpackRow<KQuantGemmQ4_KFamily<BlockQ5_K.Chunks256>>(row, cols, dst); break;
            case GgmlType.Q2_K: KQuantGemm.UnpackRow<KQuantGemmQ2_K>(row, cols, dst); break;
            case GgmlType.Q3_K: KQuantGemm.UnpackRow<KQuantGemmQ3_K>(row, cols, dst); break;
            default: KQuantGemm.UnpackRow<KQuantGemmQ6_K>(row, cols, dst); break;
        }
    }

    private static void KKernel(GgmlType type, byte* u0, byte* u1, int cols, byte* group, float* out0, float* out1, bool wide)
    {
        switch (type)
        {
            case GgmlType.Q4_K when wide: KQuantGemm.Kernel2x16Wide<KQuantGemmQ4_KFamily<BlockQ4_K.Chunks256>>(u0, u1, cols, group, out0, out1); break;
            case GgmlType.Q5_K when wide: KQuantGemm.Kernel2x16Wide<KQuantGemmQ4_KFamily<BlockQ5_K.Chunks256>>(u0, u1, cols, group, out0, out1); break;
            case GgmlType.Q6_K when wide: KQuantGemm.Kernel2x16Wide<KQuantGemmQ6_K>(u0, u1, cols, group, out0, out1); break;
            case GgmlType.Q2_K when wide: KQuantGemm.Kernel2x16Wide<KQuantGemmQ2_K>(u0, u1, cols, group, out0, out1); break;
            case GgmlType.Q3_K when wide: KQuantGemm.Kernel2x16Wide<KQuantGemmQ3_K>(u0, u1, cols, group, out0, out1); break;
            case GgmlType.Q2_K: KQuantGemm.Kernel2x16<KQuantGemmQ2_K>(u0, u1, cols, group, out0, out1); break;
            case GgmlType.Q3_K: KQuantGemm.Kernel2x16<KQuantGemmQ3_K>(u0, u1, cols, group, out0, out1); break;
            case GgmlType.Q4_K: KQuantGemm.Kernel2x16<KQuantGemmQ4_KFamily<BlockQ4_K.Chunks256>>(u0, u1, cols, group, out0, out1); break;
            case GgmlType.Q5_K: KQuantGemm.Kernel2x16<KQuantGemmQ4_KFamily<BlockQ5_K.Chunks256>>(u0, u1, cols, group, out0, out1); break;
            default: KQuantGemm.Kernel2x16<KQuantGemmQ6_K>(u0, u1, cols, group, out0, out1); break;
        }
    }

    private static void Kernel4(GgmlType type, byte* u, int stride, int cols, byte* group, float* output, int outputStride)
    {
        switch (type)
        {
            case GgmlType.Q4_0: Q8_0Gemm.Kernel4x16Wide<BlockQ4_0.Weights>(u, stride, cols / 32, group, output, outputStride); break;
            case GgmlType.Q5_0: Q8_0Gemm.Kernel4x16Wide<BlockQ5_0.GemmWeights>(u, stride, cols / 32, group, output, outputStride); break;
            case GgmlType.Q4_K: KQuantGemm.Kernel4x16Wide<KQuantGemmQ4_KFamily<BlockQ4_K.Chunks256>>(u, stride, cols, group, output, outputStride); break;
            case GgmlType.Q5_K: KQuantGemm.Kernel4x16Wide<KQuantGemmQ4_KFamily<BlockQ5_K.Chunks256>>(u, stride, cols, group, output, outputStride); break;
            case GgmlType.Q2_K: KQuantGemm.Kernel4x16Wide<KQuantGemmQ2_K>(u, stride, cols, group, output, outputStride); break;
            case GgmlType.Q3_K: KQuantGemm.Kernel4x16Wide<KQuantGemmQ3_K>(u, stride, cols, group, output, outputStride); break;
            default: KQuantGemm.Kernel4x16Wide<KQuantGemmQ6_K>(u, stride, cols, group, output, outputStride); break;
        }
    }

    /// <summary>An unpacked row's values, scales and offsets (KQuantGemm's layout).</summary>
    private static (byte[] Values, float[] A, float[] B) Unpacked(byte[] unpacked, int at, int cols, int subBlock)
    {
        var values = unpacked.AsSpan(at, cols).ToArray();
        var a = new float[cols / subBlock];
        var b = new float[cols / subBlock];
        for (int s = 0; s < a.Length; s++)
        {
            a[s] = BitConverter.ToSingle(unpacked, at + cols + (4 * s));
            b[s] = BitConverter.ToSingle(unpacked, at + cols + (4 * (a.Length + s)));
        }

        return (values, a, b);
    }

    /// <summary>The scalar definition of KQuantGemm's result for one unpacked row and one token.</summary>
    private static float KExpected(GgmlType type, byte[] unpacked, int at, int cols, int subBlock, byte[] activations, long a, int blocks)
    {
        // The offset o where b = −o · a (carried in the integer sum), else 0 and b's own float step.
        int o = type switch { GgmlType.Q6_K => 32, GgmlType.Q3_K => 4, _ => 0 };
        var (values, scale, offset) = Unpacked(unpacked, at, cols, subBlock);
        float acc = 0;
        for (int blk = 0; blk < blocks; blk++)
        {
            float dx = BitConverter.ToSingle(activations, (int)(a + (blocks * 34) + (blk * 4)));
            for (int half = 0; half < 32 / subBlock; half++)
            {
                int s = (blk * (32 / subBlock)) + half;
                int sum = 0, qsum = 0;
                for (int j = 0; j < subBlock; j++)
                {
                    int q = (sbyte)activations[a + (blk * 34) + 2 + (half * subBlock) + j];
                    sum += values[(s * subBlock) + j] * q;
                    qsum += q;
                }

                if (o != 0)
                {
                    acc = MathF.FusedMultiplyAdd(sum - (o * qsum), scale[s] * dx, acc);
                }
                else
                {
                    acc = MathF.FusedMultiplyAdd(offset[s], dx * qsum, MathF.FusedMultiplyAdd(sum, scale[s] * dx, acc));
                }
            }
        }

        return acc;
    }

    /// <summary>The scalar definition: integer weight values recovered from the reference dequantization (value / d).</summary>
    private static float Expected(byte[] weights, float[] w, int r, long rowBytes, byte[] activations, long activationBytes, int t, int blocks)
    {
        int cols = blocks * 32;
        int weightBlockBytes = (int)(rowBytes / blocks);
        long a = t * activationBytes;
        float acc = 0;
        for (int b = 0; b < blocks; b++)
        {
            float dw = (float)BitConverter.ToHalf(weights, (int)((r * rowBytes) + (b * weightBlockBytes)));
            float dx = BitConverter.ToSingle(activations, (int)(a + (blocks * 34) + (b * 4)));
            int sum = 0;
            for (int j = 0; j < 32; j++)
            {
                int v = (int)Math.Round(w[(r * cols) + (b * 32) + j] / dw);
                sum += v * (sbyte)activations[a + (b * 34) + 2 + j];
            }

            acc = MathF.FusedMultiplyAdd(sum, dw * dx, acc);
        }

        return acc;
    }
}
