using Kvasir.Kernels.Quant;
using Kvasir.Model.Making;

namespace Kvasir.Server.Tests;

/// <summary>Model files made once per test run: a tiny fast one, and a slower one for requests that must still be running.</summary>
internal static class TestModels
{
    private static readonly string Dir = Directory.CreateTempSubdirectory("kvasir-server-tests-").FullName;
    private static readonly Lazy<string> LazyTiny = new(() => Make("tiny.gguf", ModelShape.T));
    private static readonly Lazy<string> LazySlow = new(() => Make("slow.gguf", ModelShape.T with { Dim = 256, Layers = 4, FeedForward = 768, ContextLength = 4096 }));

    /// <summary>ModelShape.T with a BPE vocabulary (ChatML tokens and template), context 512: hundreds of tokens per second.</summary>
    public static string Tiny => LazyTiny.Value;

    /// <summary>A wider model (context 4096) that generates a few dozen tokens per second: long requests stay in flight.</summary>
    public static string Slow => LazySlow.Value;

    private static string Make(string name, ModelShape shape)
    {
        var path = Path.Combine(Dir, name);
        ModelMaker.Write(path, shape, GgmlType.F32, VocabKind.Bpe);
        return path;
    }
}
