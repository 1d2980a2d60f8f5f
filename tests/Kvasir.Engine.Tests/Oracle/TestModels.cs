using System.Collections.Concurrent;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Making;
using LLama;
using LLama.Native;

namespace Kvasir.Engine.Tests.Oracle;

/// <summary>
/// The models the oracle tests run, generated on first use into a cache folder (nothing is committed):
/// our own writer for F32/F16/BF16/Q8_0, and llama.cpp's quantizer for Q4_0, Q4_K_M, Q6_K, Q3_K_M, Q2_K, IQ4_NL and IQ4_XS.
/// </summary>
public static class TestModels
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Made = new();

    /// <summary>The tiny llama shape (T) with a SentencePiece vocabulary.</summary>
    public static ModelShape Tiny => ModelShape.T;

    /// <summary>A shape whose rows are multiples of 256, so llama.cpp's K-quants apply to every matrix.</summary>
    public static ModelShape Quantizable => new() { Dim = 256, Layers = 2, Heads = 4, KvHeads = 2, FeedForward = 512, VocabSize = 512, ContextLength = 512 };

    /// <summary>Folder the generated models are kept in between runs.</summary>
    public static string Folder
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("KVASIR_TEST_MODELS") ?? Path.Combine(Path.GetTempPath(), "kvasir-test-models");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>A model written by <see cref="ModelMaker"/>.</summary>
    public static string Make(string name, ModelShape shape, GgmlType type, VocabKind vocab, ulong seed = 7)
        => Made.GetOrAdd(name, _ => new Lazy<string>(() =>
        {
            // The file name carries everything that changes its content, so a stale cache is never reused.
            var path = Path.Combine(Folder, $"{name}-{shape.Architecture}-{shape.Dim}x{shape.Layers}-{shape.Heads}-{shape.KvHeads}-{shape.FeedForward}-{shape.HeadDim}-{shape.VocabSize}-{type}-{vocab}-{seed}-v{FormatVersion}.gguf");
            if (!File.Exists(path))
            {
                ModelMaker.Write(path, shape, type, vocab, new MakeModelOptions { Seed = seed });
            }

            return path;
        })).Value;

    /// <summary>A model quantized by llama.cpp's own quantizer from an F32 model of ours.</summary>
    public static string Quantize(string name, string sourceF32, LLamaFtype ftype)
        => Made.GetOrAdd(name, _ => new Lazy<string>(() =>
        {
            var path = Path.Combine(Folder, $"{Path.GetFileNameWithoutExtension(sourceF32)}-{ftype}.gguf");
            if (!File.Exists(path))
            {
                NativeApi.llama_empty_call();
                var temp = path + $".{Environment.ProcessId}.partial";
                if (!LLamaQuantizer.Quantize(sourceF32, temp, ftype, nthread: 2))
                {
                    throw new InvalidOperationException($"llama.cpp could not quantize {sourceF32} to {ftype}.");
                }

                File.Move(temp, path, overwrite: true);
            }

            return path;
        })).Value;

    /// <summary>Bump when ModelMaker's output changes, to invalidate cached files.</summary>
    private const int FormatVersion = 1;

    /// <summary>The tensor types a file holds (for checking that the quantizer produced what a test claims).</summary>
    public static HashSet<GgmlType> TensorTypes(string path)
    {
        using var f = Model.Gguf.GgufFile.Open(path);
        return [.. f.Tensors.Select(t => t.Type)];
    }

    /// <summary>Opens one of the models.</summary>
    public static LanguageModel Open(string path) => LanguageModel.Open(path);
}
