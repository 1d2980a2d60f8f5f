using Kvasir.Kernels.Quant;
using Kvasir.Model.Gguf;

namespace Kvasir.Model.Tests.Gguf;

public sealed class GgufRoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kvasir-gguf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EveryMetadataTypeAndArrayRoundTrips()
    {
        var path = Path.Combine(_dir, "types.gguf");
        new GgufWriter()
            .Add("u8", (byte)200).Add("i8", (sbyte)-100).Add("u16", (ushort)60000).Add("i16", (short)-30000)
            .Add("u32", 4_000_000_000u).Add("i32", -2_000_000_000).Add("f32", 3.5f).Add("bool", true)
            .Add("string", "héllo wörld 日本 👍").Add("u64", ulong.MaxValue).Add("i64", long.MinValue).Add("f64", Math.PI)
            .Add("strings", new[] { "a", "", "ß" }).Add("floats", new[] { 1f, -2f }).Add("ints", new[] { 1, 2, 3 })
            .Add("bools", new[] { true, false }).Add("u64s", new ulong[] { 1, 2 }).Add("empty", Array.Empty<int>())
            .Write(path);

        using var f = GgufFile.Open(path);
        Assert.Equal(3u, f.Version);
        Assert.Equal((byte)200, f.Metadata["u8"].Value);
        Assert.Equal((sbyte)-100, f.Metadata["i8"].Value);
        Assert.Equal((ushort)60000, f.Metadata["u16"].Value);
        Assert.Equal((short)-30000, f.Metadata["i16"].Value);
        Assert.Equal(4_000_000_000u, f.Metadata["u32"].Value);
        Assert.Equal(-2_000_000_000, f.Metadata["i32"].Value);
        Assert.Equal(3.5f, f.Metadata["f32"].Value);
        Assert.Equal(true, f.Metadata["bool"].Value);
        Assert.Equal("héllo wörld 日本 👍", f.GetString("string"));
        Assert.Equal(ulong.MaxValue, f.Metadata["u64"].Value);
        Assert.Equal(long.MinValue, f.Metadata["i64"].Value);
        Assert.Equal(Math.PI, f.Metadata["f64"].Value);
        Assert.Equal(["a", "", "ß"], f.GetArrayOrNull<string>("strings")!);
        Assert.Equal([1f, -2f], f.GetArrayOrNull<float>("floats")!);
        Assert.Equal([1, 2, 3], f.GetIntArrayOrNull("ints")!);
        Assert.Equal([true, false], f.GetArrayOrNull<bool>("bools")!);
        Assert.Equal(GgufValueType.UInt64, f.Metadata["u64s"].ElementType);
        Assert.Empty(f.GetIntArrayOrNull("empty")!);
        Assert.Equal(4_000_000_000L, f.GetInteger("u32"));
        Assert.Equal(3.5f, f.GetFloatOrNull("f32"));
        Assert.Null(f.GetStringOrNull("absent"));
    }

    [Fact]
    public unsafe void ResidentWeights_HoldTheFilesBytes_InHugePageAlignedMemory()
    {
        var path = Path.Combine(_dir, "resident.gguf");
        var values = new float[256 * 5];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Cos(i * 0.11f);
        }

        new GgufWriter().Add("general.architecture", "test")
            .AddTensor("a", [256, 5], values, GgmlType.Q8_0)
            .AddTensor("b", [100], values[..100], GgmlType.F32)
            .Write(path);

        using var mapped = GgufFile.Open(path, WeightMemory.Mapped);
        using var resident = GgufFile.Open(path, WeightMemory.Resident);
        using var auto = GgufFile.Open(path, WeightMemory.Auto);
        using var plain = GgufFile.Open(path);
        Assert.Equal(WeightMemory.Mapped, plain.Memory);
        Assert.Equal(WeightMemory.Mapped, mapped.Memory);
        Assert.Equal(WeightMemory.Resident, resident.Memory);
        Assert.Equal(Kvasir.Kernels.HugePageMemory.IsAvailable ? WeightMemory.Resident : WeightMemory.Mapped, auto.Memory);
        foreach (var name in new[] { "a", "b" })
        {
            var t = resident.GetTensor(name);
            Assert.True(mapped.TensorData(mapped.GetTensor(name)).SequenceEqual(resident.TensorData(t)), name);
            Assert.Equal(0, (long)resident.TensorPointer(t) % resident.Alignment);
        }

        Assert.Equal(0, (long)resident.TensorPointer(resident.Tensors[0]) % Kvasir.Kernels.HugePageMemory.PageBytes);
        resident.Dispose();
        Assert.Throws<ObjectDisposedException>(() => resident.TensorData(resident.Tensors[0]).Length);
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void TensorsRoundTripAlignedAndInPlace(GgmlType type)
    {
        var path = Path.Combine(_dir, $"t-{type}.gguf");
        var values = new float[64 * 3];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Sin(i * 0.37f) * 2;
        }

        new GgufWriter().Add("general.architecture", "test")
            .AddTensor("a", [64, 3], values, type)
            .AddTensor("b", [32], values[..32], GgmlType.F32)
            .Write(path);

        using var f = GgufFile.Open(path);
        Assert.Equal(2, f.Tensors.Count);
        var a = f.GetTensor("a");
        Assert.Equal(type, a.Type);
        Assert.Equal([64L, 3L], a.Shape);
        Assert.Equal(0, f.DataOffset % f.Alignment);
        Assert.Equal(0, f.GetTensor("b").Offset % f.Alignment);
        var decoded = new float[64 * 3];
        for (var r = 0; r < 3; r++)
        {
            var rowBytes = (int)QuantTraits.RowBytes(type, 64);
            Dequantize.Row(type, f.TensorData(a).Slice(r * rowBytes, rowBytes), decoded.AsSpan(r * 64, 64));
        }

        var tolerance = type switch { GgmlType.F32 => 0f, GgmlType.F16 => 2e-3f, GgmlType.BF16 => 2e-2f, GgmlType.Q8_0 => 2e-2f, _ => 0.3f };
        for (var i = 0; i < values.Length; i++)
        {
            Assert.True(MathF.Abs(decoded[i] - values[i]) <= tolerance, $"{type} element {i}: {decoded[i]} vs {values[i]}");
        }
    }

    [Fact]
    public void CustomAlignmentIsWrittenAndHonoured()
    {
        var path = Path.Combine(_dir, "align.gguf");
        new GgufWriter(alignment: 64).AddTensor("x", [8], new float[8], GgmlType.F32).AddTensor("y", [4], new float[4], GgmlType.F32).Write(path);
        using var f = GgufFile.Open(path);
        Assert.Equal(64, f.Alignment);
        Assert.Equal(64, f.GetTensor("y").Offset);
    }

    [Fact]
    public void VersionTwoFilesAreRead()
    {
        var path = Path.Combine(_dir, "v2.gguf");
        new GgufWriter().Add("k", 1u).Write(path);
        var bytes = File.ReadAllBytes(path);
        bytes[4] = 2;
        File.WriteAllBytes(path, bytes);
        using var f = GgufFile.Open(path);
        Assert.Equal(2u, f.Version);
    }
}
