using System.Runtime.InteropServices;
using Kvasir.Kernels.Attention;

namespace Kvasir.Kernels.Tests.Attention;

/// <summary>Paged attention against a naive contiguous-KV implementation in double precision.</summary>
public sealed unsafe class PagedAttentionTests
{
    private const int NumBlocks = 24;

    public static TheoryData<KvDataType, int> Cases()
    {
        var data = new TheoryData<KvDataType, int>();
        foreach (var type in new[] { KvDataType.F32, KvDataType.F16 })
        {
            foreach (int group in new[] { 1, 3, 7 })
            {
                data.Add(type, group);
            }
        }

        return data;
    }

    /// <summary>Block tables: contiguous, reversed, scattered with gaps, and a shuffled permutation.</summary>
    private static int[][] BlockTables()
    {
        var shuffled = Enumerable.Range(0, NumBlocks).ToArray();
        new Random(90).Shuffle(shuffled);
        return
        [
            [.. Enumerable.Range(0, 12)],
            [.. Enumerable.Range(0, 12).Reverse()],
            [5, 17, 2, 23, 9, 0, 14, 11, 20, 3, 7, 19],
            shuffled[..12],
        ];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Attend_MatchesNaiveContiguousAttention(KvDataType type, int group)
    {
        const int numKvHeads = 2;
        var rng = new Random(91 + (group * 10) + (int)type);

        // Block size 4 takes the portable path at every width; 8 and 16 (the engine's default) the tiled one on AVX2.
        foreach ((int blockSize, int[] kvLens) in new[] { (4, new[] { 0, 1, 3, 4, 5, 13, 37, 48 }), (8, [7, 8, 9, 61]), (16, [1, 15, 16, 17, 100, 128, 129, 192]) })
        foreach (int headDim in new[] { 20, 64 })
        {
            int nHeads = numKvHeads * group;
            foreach (int[] table in BlockTables())
            {
                foreach (int kvLen in kvLens)
                {
                    using var arena = new Arena(type, NumBlocks, blockSize, numKvHeads, headDim);
                    var layer = arena.View;

                    // Token j's keys and values, as stored (rounded to half for an F16 cache).
                    var keys = new float[kvLen][];
                    var values = new float[kvLen][];
                    for (int j = 0; j < kvLen; j++)
                    {
                        keys[j] = TestData.Floats(rng, numKvHeads * headDim, 2);
                        values[j] = TestData.Floats(rng, numKvHeads * headDim, 3);
                        PagedAttention.WriteKv(layer, (table[j / blockSize] * blockSize) + (j % blockSize), keys[j], values[j]);
                        if (type == KvDataType.F16)
                        {
                            RoundToHalf(keys[j]);
                            RoundToHalf(values[j]);
                        }
                    }

                    var q = TestData.Floats(rng, nHeads * headDim, 1);
                    float scale = 1 / MathF.Sqrt(headDim);
                    var expected = Naive(q, keys, values, nHeads, numKvHeads, headDim, scale);
                    var scratch = new float[kvLen * group];
                    var output = new float[nHeads * headDim];

                    PagedAttention.AttendReference(layer, q, nHeads, table, kvLen, scale, output, scratch);
                    AssertOutput(expected, output, $"reference {type} group={group} bs={blockSize} hd={headDim} kvLen={kvLen} table={table[0]}");
                    foreach (var width in TestData.Widths())
                    {
                        output.AsSpan().Fill(float.NaN);
                        PagedAttention.Attend(layer, q, nHeads, table, kvLen, scale, output, scratch, width);
                        AssertOutput(expected, output, $"{width} {type} group={group} bs={blockSize} hd={headDim} kvLen={kvLen} table={table[0]}");
                    }

                    output.AsSpan().Fill(float.NaN);
                    PagedAttention.Attend(layer, q, nHeads, table, kvLen, scale, output, scratch);
                    AssertOutput(expected, output, "public entry");
                }
            }
        }
    }

    [Theory]
    [InlineData(KvDataType.F32)]
    [InlineData(KvDataType.F16)]
    public void Attend_Vector512_IsBitIdenticalToVector256(KvDataType type)
    {
        // The 512-bit score and value kernels add each lane's products in the 256-bit kernels' order: the same bits,
        // for every row count (4, 2 and 1 rows at a time), block sizes with and without 16-key vectors, head dims with
        // and without whole 32-dimension slices, and rows split into key segments. (Only the tiled path: head dims that
        // are not multiples of 8 take the portable one, whose sums are ordered by the width.)
        const int numKvHeads = 2;
        var rng = new Random(97 + (int)type);
        foreach (int blockSize in new[] { 8, 16, 32 })
        foreach (int headDim in new[] { 40, 64, 96 })
        foreach (int group in new[] { 1, 3, 4, 7 })
        {
            using var arena = new Arena(type, NumBlocks, blockSize, numKvHeads, headDim);
            var layer = arena.View;
            for (int slot = 0; slot < NumBlocks * blockSize; slot++)
            {
                PagedAttention.WriteKv(layer, slot, TestData.Floats(rng, numKvHeads * headDim, 2), TestData.Floats(rng, numKvHeads * headDim, 3));
            }

            var table = BlockTables()[2];
            int nHeads = numKvHeads * group;
            float scale = 1 / MathF.Sqrt(headDim);
            foreach (int kvLen in new[] { 1, 15, 16, 17, 40, 129, Math.Min(300, table.Length * blockSize) })
            {
                if (kvLen > table.Length * blockSize)
                {
                    continue;
                }

                var q = TestData.Floats(rng, nHeads * headDim, 1);
                var scratch = new float[table.Length * blockSize * group];
                var narrow = new float[nHeads * headDim];
                var wide = new float[nHeads * headDim];
                PagedAttention.Attend(layer, q, nHeads, table, kvLen, scale, narrow, scratch, SimdWidth.V256);
                PagedAttention.Attend(layer, q, nHeads, table, kvLen, scale, wide, scratch, SimdWidth.V512);
                for (int i = 0; i < narrow.Length; i++)
                {
                    Assert.True(
                        BitConverter.SingleToInt32Bits(narrow[i]) == BitConverter.SingleToInt32Bits(wide[i]),
                        $"{type} bs={blockSize} hd={headDim} group={group} kvLen={kvLen} i={i}: {wide[i]} != {narrow[i]}");
                }
            }

            // A prefill chunk of 21 tokens in one run (rows of different lengths side by side) through AttendBatch
            // (the machine's widest kernels) against each token alone at 256 bits.
            const int chunk = 21;
            int before = Math.Min(100, (table.Length * blockSize) - chunk);
            int w = nHeads * headDim;
            var qs = TestData.Floats(rng, chunk * w, 1);
            var lengths = Enumerable.Range(before + 1, chunk).ToArray();
            var batch = new float[chunk * w];
            using var pool = new KernelThreadPool(2);
            PagedAttention.AttendBatch(layer, qs, nHeads, table, new int[chunk], lengths, ScaleOf(headDim), batch, pool);
            var alone = new float[w];
            var scratch2 = new float[table.Length * blockSize * group];
            for (int t = 0; t < chunk; t++)
            {
                PagedAttention.Attend(layer, qs.AsSpan(t * w, w), nHeads, table, lengths[t], ScaleOf(headDim), alone, scratch2, SimdWidth.V256);
                for (int i = 0; i < w; i++)
                {
                    Assert.True(
                        BitConverter.SingleToInt32Bits(alone[i]) == BitConverter.SingleToInt32Bits(batch[(t * w) + i]),
                        $"{type} bs={blockSize} hd={headDim} group={group} chunk token {t} i={i}: {batch[(t * w) + i]} != {alone[i]}");
                }
            }
        }

        static float ScaleOf(int headDim) => 1 / MathF.Sqrt(headDim);
    }

    [Theory]
    [InlineData(KvDataType.F32, 1, 4)]
    [InlineData(KvDataType.F16, 3, 4)]
    [InlineData(KvDataType.F32, 3, 16)]
    [InlineData(KvDataType.F16, 7, 16)]
    public void AttendBatch_EqualsAttendPerToken(KvDataType type, int group, int blockSize)
    {
        // Three sequences with their own block tables, laid end to end as the forward pass does: a 20-token
        // prefill chunk after 9 cached tokens, one decoding token at 37, and a 5-token chunk from the start.
        const int numKvHeads = 2;
        const int headDim = 32;
        int nHeads = numKvHeads * group;
        var rng = new Random(93 + group);
        using var arena = new Arena(type, NumBlocks, blockSize, numKvHeads, headDim);
        var layer = arena.View;
        var tables = BlockTables();
        for (int slot = 0; slot < NumBlocks * blockSize; slot++)
        {
            PagedAttention.WriteKv(layer, slot, TestData.Floats(rng, numKvHeads * headDim, 2), TestData.Floats(rng, numKvHeads * headDim, 3));
        }

        // With 16-token blocks the first chunk's rows straddle the 128-key segment length (some split, some not) and
        // the decoding token is split in two.
        (int Table, int Before, int Count)[] seqs = blockSize == 16 ? [(0, 120, 20), (2, 180, 1), (3, 0, 5)] : [(0, 9, 20), (2, 36, 1), (3, 0, 5)];
        var flat = seqs.SelectMany(x => tables[x.Table]).ToArray();
        var starts = new List<int>();
        var lengths = new List<int>();
        for (int s = 0, offset = 0; s < seqs.Length; offset += tables[seqs[s].Table].Length, s++)
        {
            for (int i = 0; i < seqs[s].Count; i++)
            {
                starts.Add(offset);
                lengths.Add(seqs[s].Before + i + 1);
            }
        }

        int n = lengths.Count;
        int w = nHeads * headDim;
        var q = TestData.Floats(rng, n * w, 1);
        float scale = 1 / MathF.Sqrt(headDim);
        var expected = new float[n * w];
        var scratch = new float[NumBlocks * blockSize * group];
        for (int t = 0; t < n; t++)
        {
            PagedAttention.Attend(layer, q.AsSpan(t * w, w), nHeads, flat.AsSpan(starts[t]), lengths[t], scale, expected.AsSpan(t * w, w), scratch);
        }

        using var pool = new KernelThreadPool(3);
        var actual = new float[n * w];
        PagedAttention.AttendBatch(layer, q, nHeads, flat, [.. starts], [.. lengths], scale, actual, pool);
        Assert.Equal(expected, actual);

        // A token whose length runs past its block table is refused before anything runs.
        lengths[^1] = (tables[3].Length * blockSize) + 1;
        var ex = Assert.Throws<ArgumentException>(() => PagedAttention.AttendBatch(layer, q, nHeads, flat, [.. starts], [.. lengths], scale, actual, pool));
        Assert.Contains("kvLen", ex.Message);
    }

    [Theory]
    [InlineData(KvDataType.F32, 3)]
    [InlineData(KvDataType.F16, 8)]
    public void LongContexts_SplitIntoKeySegments_MatchNaive_AndBatchEqualsAlone(KvDataType type, int group)
    {
        // Rows longer than one key segment (128 keys on the tiled path) are computed a segment at a time and merged;
        // up to five segments here, the last one partial.
        const int blockSize = 16;
        const int numKvHeads = 2;
        const int headDim = 64;
        const int blocks = 40;
        int nHeads = numKvHeads * group;
        var rng = new Random(97 + group);
        using var arena = new Arena(type, blocks, blockSize, numKvHeads, headDim);
        var layer = arena.View;
        var table = Enumerable.Range(0, blocks).ToArray();
        new Random(98).Shuffle(table);
        int kvMax = blocks * blockSize;
        var keys = new float[kvMax][];
        var values = new float[kvMax][];
        for (int j = 0; j < kvMax; j++)
        {
            keys[j] = TestData.Floats(rng, numKvHeads * headDim, 2);
            values[j] = TestData.Floats(rng, numKvHeads * headDim, 3);
            PagedAttention.WriteKv(layer, (table[j / blockSize] * blockSize) + (j % blockSize), keys[j], values[j]);
            if (type == KvDataType.F16)
            {
                RoundToHalf(keys[j]);
                RoundToHalf(values[j]);
            }
        }

        int[] lengths = [257, 400, 640, 130];
        int w = nHeads * headDim;
        var q = TestData.Floats(rng, lengths.Length * w, 1);
        float scale = 1 / MathF.Sqrt(headDim);
        var alone = new float[lengths.Length * w];
        var scratch = new float[kvMax * group];
        for (int t = 0; t < lengths.Length; t++)
        {
            var expected = Naive(q.AsSpan(t * w, w).ToArray(), keys[..lengths[t]], values[..lengths[t]], nHeads, numKvHeads, headDim, scale);
            PagedAttention.Attend(layer, q.AsSpan(t * w, w), nHeads, table, lengths[t], scale, alone.AsSpan(t * w, w), scratch);
            AssertOutput(expected, alone.AsSpan(t * w, w).ToArray(), $"{type} group={group} kvLen={lengths[t]}");
        }

        // The four tokens as one batch (sharing the table, they form one run, split into five segments): each token
        // gets its bits alone.
        using var pool = new KernelThreadPool(3);
        var batched = new float[lengths.Length * w];
        PagedAttention.AttendBatch(layer, q, nHeads, table, [0, 0, 0, 0], lengths, scale, batched, pool);
        Assert.Equal(alone, batched);
    }

    [Theory]
    [InlineData(KvDataType.F32)]
    [InlineData(KvDataType.F16)]
    public void WriteKv_StoresAtTheDocumentedOffsets(KvDataType type)
    {
        const int blockSize = 4;
        const int numKvHeads = 3;
        const int headDim = 8;
        using var arena = new Arena(type, 6, blockSize, numKvHeads, headDim);
        var k = new float[numKvHeads * headDim];
        var v = new float[numKvHeads * headDim];
        for (int i = 0; i < k.Length; i++)
        {
            k[i] = i + 0.5f;
            v[i] = -i;
        }

        int block = 4;
        int offset = 3;
        PagedAttention.WriteKv(arena.View, (block * blockSize) + offset, k, v);
        for (int h = 0; h < numKvHeads; h++)
        {
            for (int d = 0; d < headDim; d++)
            {
                // Both tiles start at the same place; V holds the token's row, K (transposed) its column.
                long tile = (((long)block * numKvHeads) + h) * blockSize * headDim;
                Assert.Equal(k[(h * headDim) + d], arena.Read(arena.View.K, tile + ((long)d * blockSize) + offset));
                Assert.Equal(v[(h * headDim) + d], arena.Read(arena.View.V, tile + ((long)offset * headDim) + d));
            }
        }

        // Nothing else was written.
        int written = 0;
        for (long i = 0; i < 6L * numKvHeads * blockSize * headDim; i++)
        {
            written += arena.Read(arena.View.K, i) != 0 ? 1 : 0;
        }

        Assert.Equal(numKvHeads * headDim, written);
    }

    [Fact]
    public void Attend_ValidatesArguments()
    {
        using var arena = new Arena(KvDataType.F32, 4, 4, 2, 8);
        var layer = arena.View;
        var q = new float[6 * 8];
        var output = new float[6 * 8];
        var scratch = new float[3 * 16];
        int[] table = [0, 1, 2, 3];
        PagedAttention.Attend(layer, q, 6, table, 16, 1, output, scratch);
        Assert.Throws<ArgumentException>(() => PagedAttention.Attend(layer, q, 5, table, 16, 1, output, scratch));
        Assert.Throws<ArgumentException>(() => PagedAttention.Attend(layer, q, 6, table, 17, 1, output, scratch));
        Assert.Throws<ArgumentException>(() => PagedAttention.Attend(layer, q, 6, table, 16, 1, output, scratch.AsSpan(1)));
        Assert.Throws<ArgumentException>(() => PagedAttention.Attend(layer, q.AsSpan(1), 6, table, 16, 1, output, scratch));
        Assert.Throws<ArgumentException>(() => PagedAttention.Attend(layer, q, 6, table, 16, 1, output.AsSpan(1), scratch));
        Assert.Throws<ArgumentException>(() => PagedAttention.Attend(layer, q, 6, [0, 1, 4, 3], 16, 1, output, scratch));
        Assert.Throws<ArgumentException>(() => PagedAttention.Attend(layer, q, 6, [0, -1], 5, 1, output, scratch));
        Assert.Throws<ArgumentException>(() => PagedAttention.Attend(default, q, 6, table, 16, 1, output, scratch));
        Assert.Throws<ArgumentOutOfRangeException>(() => PagedAttention.WriteKv(layer, 16, new float[16], new float[16]));
        Assert.Throws<ArgumentException>(() => PagedAttention.WriteKv(layer, 15, new float[15], new float[16]));

        // An unused table entry may hold anything.
        PagedAttention.Attend(layer, q, 6, [2, 99], 4, 1, output, scratch);
    }

    [Fact]
    public void Attend_ZeroLength_GivesZeros()
    {
        using var arena = new Arena(KvDataType.F16, 2, 4, 1, 8);
        var output = new float[16];
        output.AsSpan().Fill(3);
        PagedAttention.Attend(arena.View, new float[16], 2, [], 0, 1, output, []);
        Assert.All(output, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BytesPerBlock_FollowsTheLayout()
    {
        Assert.Equal(4L * 16 * 64 * 2, KvLayerView.BytesPerBlock(KvDataType.F16, 16, 4, 64));
        Assert.Equal(4L * 16 * 64 * 4, KvLayerView.BytesPerBlock(KvDataType.F32, 16, 4, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KvLayerView((byte*)1, (byte*)1, KvDataType.F32, 0, 16, 4, 64));
        Assert.Throws<ArgumentException>(() => new KvLayerView(null, (byte*)1, KvDataType.F32, 1, 16, 4, 64));
    }

    private static double[] Naive(float[] q, float[][] keys, float[][] values, int nHeads, int numKvHeads, int headDim, float scale)
    {
        int group = nHeads / numKvHeads;
        var output = new double[nHeads * headDim];
        int kvLen = keys.Length;
        for (int h = 0; h < nHeads; h++)
        {
            int kvHead = h / group;
            var scores = new double[kvLen];
            for (int j = 0; j < kvLen; j++)
            {
                double dot = 0;
                for (int d = 0; d < headDim; d++)
                {
                    dot += (double)q[(h * headDim) + d] * keys[j][(kvHead * headDim) + d];
                }

                scores[j] = dot * scale;
            }

            double max = kvLen == 0 ? 0 : scores.Max();
            double sum = scores.Sum(s => Math.Exp(s - max));
            for (int j = 0; j < kvLen; j++)
            {
                double p = Math.Exp(scores[j] - max) / sum;
                for (int d = 0; d < headDim; d++)
                {
                    output[(h * headDim) + d] += p * values[j][(kvHead * headDim) + d];
                }
            }
        }

        return output;
    }

    private static void AssertOutput(double[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            // Values are within ±3 and the softmax weights sum to 1.
            TestData.AssertClose(expected[i], actual[i], Tolerance.Attention, 3, $"{what} i={i}");
        }
    }

    private static void RoundToHalf(float[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(Half)values[i];
        }
    }

    /// <summary>A zeroed, 64-byte aligned K and V arena in native memory.</summary>
    private sealed class Arena : IDisposable
    {
        private readonly byte* _k;
        private readonly byte* _v;

        public Arena(KvDataType type, int numBlocks, int blockSize, int numKvHeads, int headDim)
        {
            nuint bytes = (nuint)(numBlocks * KvLayerView.BytesPerBlock(type, blockSize, numKvHeads, headDim));
            _k = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
            _v = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
            NativeMemory.Clear(_k, bytes);
            NativeMemory.Clear(_v, bytes);
            View = new KvLayerView(_k, _v, type, numBlocks, blockSize, numKvHeads, headDim);
        }

        public KvLayerView View { get; }

        public float Read(byte* basePtr, long index) =>
            View.DataType == KvDataType.F16 ? (float)((Half*)basePtr)[index] : ((float*)basePtr)[index];

        public void Dispose()
        {
            NativeMemory.AlignedFree(_k);
            NativeMemory.AlignedFree(_v);
        }
    }
}
