using System.CommandLine;
using System.Diagnostics;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Making;

namespace Kvasir.Cli.Commands;

/// <summary>`kvasir make-model`: writes a random-weights model of a named shape or explicit dimensions.</summary>
public static class MakeModelCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(TextWriter output)
    {
        var outPath = new Option<string>("--output", "-o") { Description = "Path of the GGUF file to write.", Required = true };
        var shape = new Option<string>("--shape") { Description = "Preset shape: S (SmolLM2-135M), M (Qwen2.5-0.5B), L (TinyLlama-1.1B), T (tiny, for tests).", DefaultValueFactory = _ => "T" };
        var arch = new Option<string?>("--arch") { Description = "Architecture: llama, qwen2 or qwen3 (default: the shape's)." };
        var type = new Option<string>("--type") { Description = "Weight type: F32, F16, BF16, Q8_0 or Q4_0.", DefaultValueFactory = _ => "F32" };
        var vocab = new Option<string>("--vocab") { Description = "Vocabulary kind: bpe (byte-level BPE) or spm (SentencePiece).", DefaultValueFactory = _ => "bpe" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random weights.", DefaultValueFactory = _ => 42UL };
        var dim = new Option<int?>("--dim") { Description = "Override: residual width." };
        var layers = new Option<int?>("--layers") { Description = "Override: number of layers." };
        var heads = new Option<int?>("--heads") { Description = "Override: query heads." };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "Override: key/value heads." };
        var ffn = new Option<int?>("--ffn") { Description = "Override: feed-forward width." };
        var vocabSize = new Option<int?>("--vocab-size") { Description = "Override: vocabulary size (padded with reserved tokens)." };
        var headDim = new Option<int?>("--head-dim") { Description = "Override: head width (default dim / heads)." };
        var context = new Option<int?>("--context") { Description = "Override: context length." };
        var tied = new Option<bool?>("--tied") { Description = "Override: tie the output matrix to the token embedding." };
        var command = new Command("make-model", "Write a random-weights GGUF model of a named shape (for benchmarks and tests).")
        {
            outPath, shape, arch, type, vocab, seed, dim, layers, heads, kvHeads, ffn, vocabSize, headDim, context, tied,
        };
        command.SetAction(parse =>
        {
            var s = ModelShape.Preset(parse.GetValue(shape)!) ?? throw new CliException($"unknown shape '{parse.GetValue(shape)}': use S, M, L or T.");
            if (parse.GetValue(arch) is { } a)
            {
                s = s with
                {
                    Architecture = a.ToLowerInvariant() switch
                    {
                        "llama" => ModelArchitecture.Llama,
                        "qwen2" => ModelArchitecture.Qwen2,
                        "qwen3" => ModelArchitecture.Qwen3,
                        _ => throw new CliException($"unknown architecture '{a}': use llama, qwen2 or qwen3."),
                    },
                };
            }

            s = s with
            {
                Dim = parse.GetValue(dim) ?? s.Dim,
                Layers = parse.GetValue(layers) ?? s.Layers,
                Heads = parse.GetValue(heads) ?? s.Heads,
                KvHeads = parse.GetValue(kvHeads) ?? s.KvHeads,
                FeedForward = parse.GetValue(ffn) ?? s.FeedForward,
                VocabSize = parse.GetValue(vocabSize) ?? s.VocabSize,
                HeadDim = parse.GetValue(headDim) ?? s.HeadDim,
                ContextLength = parse.GetValue(context) ?? s.ContextLength,
                TiedEmbeddings = parse.GetValue(tied) ?? s.TiedEmbeddings,
            };
            if (s.Validate() is { } problem)
            {
                throw new CliException($"invalid shape: {problem}.");
            }

            var typeName = parse.GetValue(type)!;
            if (!Enum.TryParse<GgmlType>(typeName, ignoreCase: true, out var weightType) || Array.IndexOf(ModelMaker.WritableTypes, weightType) < 0)
            {
                throw new CliException($"unknown weight type '{typeName}': use F32, F16, BF16, Q8_0 or Q4_0 (make Q4_K_M with llama.cpp's quantizer from an F32 file).");
            }

            var kind = parse.GetValue(vocab)!.ToLowerInvariant() switch
            {
                "bpe" or "gpt2" => VocabKind.Bpe,
                "spm" or "llama" => VocabKind.Spm,
                var v => throw new CliException($"unknown vocabulary kind '{v}': use bpe or spm."),
            };
            var path = parse.GetValue(outPath)!;
            var watch = Stopwatch.StartNew();
            try
            {
                ModelMaker.Write(path, s, weightType, kind, new MakeModelOptions { Seed = parse.GetValue(seed) });
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message);
            }

            output.WriteLine($"wrote {path}: {s.Architecture.ToString().ToLowerInvariant()} dim {s.Dim}, {s.Layers} layers, {s.Heads}/{s.KvHeads} heads, ffn {s.FeedForward}, " +
                $"vocab {s.VocabSize} ({kind}), {weightType}, {new FileInfo(path).Length / 1e6:F1} MB in {watch.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return command;
    }
}
