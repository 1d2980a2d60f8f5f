using Kvasir.Kernels.Quant;
using Kvasir.Model.Gguf;

namespace Kvasir.Model.Tests.Gguf;

/// <summary>No byte sequence may crash the reader: damaged files raise ModelFormatException, and only that.</summary>
public sealed class GgufCorruptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kvasir-gguf-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private byte[] ValidFile()
    {
        var path = Path.Combine(_dir, "valid.gguf");
        new GgufWriter().Add("general.architecture", "llama").Add("names", new[] { "x", "yy" }).Add("n", 7u)
            .AddTensor("w", [32, 2], new float[64], GgmlType.Q8_0)
            .AddTensor("v", [4], new float[] { 1, 2, 3, 4 }, GgmlType.F32)
            .Write(path);
        return File.ReadAllBytes(path);
    }

    private ModelFormatException Fails(byte[] bytes, string name = "bad.gguf")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelFormatException>(() => GgufFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void WrongMagicNamesTheProblem()
    {
        var bytes = ValidFile();
        bytes[0] = (byte)'X';
        var e = Fails(bytes);
        Assert.Contains("magic", e.Message);
        Assert.Contains("convert", e.Message);
    }

    [Fact]
    public void UnsupportedVersionAndBigEndian()
    {
        var bytes = ValidFile();
        bytes[4] = 1;
        Assert.Contains("version 1", Fails(bytes).Message);
        bytes[4] = 0;
        bytes[7] = 3;
        Assert.Contains("big-endian", Fails(bytes).Message);
    }

    [Fact]
    public void EveryTruncationRaisesModelFormatException()
    {
        var bytes = ValidFile();
        long dataEnd;
        File.WriteAllBytes(Path.Combine(_dir, "whole.gguf"), bytes);
        using (var whole = GgufFile.Open(Path.Combine(_dir, "whole.gguf")))
        {
            dataEnd = whole.Tensors.Max(t => whole.DataOffset + t.Offset + t.ByteSize);
        }

        // The padding after the last tensor may go; any cut into the header or the data must be caught.
        for (var length = 0; length < dataEnd; length++)
        {
            var path = Path.Combine(_dir, "cut.gguf");
            File.WriteAllBytes(path, bytes[..length]);
            try
            {
                GgufFile.Open(path).Dispose();
                Assert.Fail($"a file cut to {length} of {bytes.Length} bytes opened without error");
            }
            catch (ModelFormatException)
            {
            }
        }
    }

    [Fact]
    public void TensorPastTheEndIsReported()
    {
        var bytes = ValidFile();
        // Drop the last data bytes: the F32 tensor 'v' now runs past the end.
        var e = Fails(bytes[..^20]);
        Assert.Contains("'v'", e.Message);
        Assert.Contains("past the end", e.Message);
    }

    [Fact]
    public void UnknownTensorTypeIsReported()
    {
        var path = Path.Combine(_dir, "type.gguf");
        new GgufWriter().AddTensor("w", [32], new float[32], GgmlType.F32).Write(path);
        var bytes = File.ReadAllBytes(path);
        // The tensor info ends with u32 type then u64 offset: patch the type to an id ggml never used.
        var typeOffset = FindTensorTypeOffset(bytes, "w");
        BitConverter.GetBytes(99u).CopyTo(bytes, typeOffset);
        var e = Fails(bytes);
        Assert.Contains("unknown ggml type id 99", e.Message);
        BitConverter.GetBytes((uint)GgmlType.IQ2_XXS).CopyTo(bytes, typeOffset);
        Assert.Contains("IQ2_XXS", Fails(bytes).Message);
    }

    [Fact]
    public void RandomCorruptionNeverCrashes()
    {
        var valid = ValidFile();
        var rng = new Random(1234);
        var path = Path.Combine(_dir, "fuzz.gguf");
        for (var round = 0; round < 3000; round++)
        {
            var bytes = (byte[])valid.Clone();
            var flips = 1 + rng.Next(4);
            for (var i = 0; i < flips; i++)
            {
                // Bias towards the header, where the structure is.
                var at = rng.Next(4) == 0 ? rng.Next(bytes.Length) : rng.Next(Math.Min(bytes.Length, 200));
                bytes[at] = rng.Next(3) switch { 0 => 0xFF, 1 => 0x00, _ => (byte)rng.Next(256) };
            }

            File.WriteAllBytes(path, bytes);
            try
            {
                using var f = GgufFile.Open(path);
                foreach (var t in f.Tensors)
                {
                    _ = f.TensorData(t).Length;
                }
            }
            catch (ModelFormatException)
            {
            }
        }
    }

    [Fact]
    public void MissingFileSaysSo()
    {
        var e = Assert.Throws<FileNotFoundException>(() => GgufFile.Open(Path.Combine(_dir, "nope.gguf")));
        Assert.Contains("nope.gguf", e.Message);
    }

    [Fact]
    public void MissingKeyAndTensorNameTheKey()
    {
        var path = Path.Combine(_dir, "keys.gguf");
        new GgufWriter().Add("general.architecture", "llama").Write(path);
        using var f = GgufFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => f.GetInteger("llama.block_count"));
        Assert.Contains("llama.block_count", e.Message);
        Assert.Contains("token_embd.weight", Assert.Throws<ModelFormatException>(() => f.GetTensor("token_embd.weight")).Message);
        Assert.Contains("general.architecture", Assert.Throws<ModelFormatException>(() => f.GetInteger("general.architecture")).Message);
    }

    [Fact]
    public void UnknownArchitectureIsReported()
    {
        var path = Path.Combine(_dir, "arch.gguf");
        new GgufWriter().Add("general.architecture", "mamba").Write(path);
        using var f = GgufFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.FromGguf(f));
        Assert.Contains("mamba", e.Message);
        Assert.Contains("qwen2", e.Message);
    }

    private static int FindTensorTypeOffset(byte[] bytes, string name)
    {
        var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        for (var i = 24; i < bytes.Length - nameBytes.Length; i++)
        {
            if (BitConverter.ToUInt64(bytes, i - 8) == (ulong)nameBytes.Length && bytes.AsSpan(i, nameBytes.Length).SequenceEqual(nameBytes))
            {
                var p = i + nameBytes.Length;
                var nDims = BitConverter.ToUInt32(bytes, p);
                return p + 4 + (int)(8 * nDims);
            }
        }

        throw new InvalidOperationException("tensor info not found");
    }
}
