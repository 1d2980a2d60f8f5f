using System.CommandLine;
using System.Globalization;
using Kvasir.Model;

namespace Kvasir.Cli.Commands;

/// <summary>`kvasir inspect m.gguf`: architecture, hyper-parameters, tensors, parameter count, vocabulary, chat template.</summary>
public static class InspectCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(TextWriter output)
    {
        var file = new Argument<string>("model") { Description = "Path of a GGUF model file." };
        var all = new Option<bool>("--all") { Description = "List every tensor (default: the first layer's and the global ones)." };
        var metadata = new Option<bool>("--metadata") { Description = "Also print every metadata key." };
        var command = new Command("inspect", "Describe a GGUF model: architecture, hyper-parameters, tensor types and shapes, vocabulary, chat template.")
        {
            file, all, metadata,
        };
        command.SetAction(parse =>
        {
            Inspect(parse.GetValue(file)!, parse.GetValue(all), parse.GetValue(metadata), output);
            return 0;
        });
        return command;
    }

    /// <summary>Writes the description of a model file.</summary>
    public static void Inspect(string path, bool allTensors, bool allMetadata, TextWriter output)
    {
        using var gguf = CliModel.OpenGguf(path);
        var config = CliModel.Guard(() => ModelConfig.FromGguf(gguf));
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"file:            {path} (GGUF v{gguf.Version}, {gguf.FileLength / 1e6:F1} MB, {gguf.Tensors.Count} tensors, alignment {gguf.Alignment})");
        output.WriteLine($"name:            {config.Name ?? "(none)"}");
        output.WriteLine($"architecture:    {config.ArchitectureName}");
        output.WriteLine($"context length:  {config.ContextLength}");
        output.WriteLine($"embedding:       {config.EmbeddingLength}");
        output.WriteLine($"layers:          {config.BlockCount}");
        output.WriteLine($"heads:           {config.HeadCount} query, {config.HeadCountKv} key/value (group of {config.GroupSize}), head dim {config.HeadDim}");
        output.WriteLine($"feed-forward:    {config.FeedForwardLength}");
        output.WriteLine($"rms norm eps:    {config.RmsNormEps.ToString("G", inv)}");
        output.WriteLine($"rope:            {(config.RopeNeox ? "neox" : "normal")}, base {config.RopeFreqBase.ToString("G", inv)}, {config.RopeDimensionCount} dims" +
            (config.RopeFreqScale != 1f ? $", linear scale {config.RopeFreqScale.ToString("G", inv)}" : string.Empty) +
            (gguf.FindTensor("rope_freqs.weight") is null ? string.Empty : ", frequency factors (rope_freqs)"));
        output.WriteLine($"output:          {(gguf.FindTensor("output.weight") is null ? "tied to the token embedding" : "separate matrix")}");

        long parameters = 0;
        var byType = new SortedDictionary<string, (int Count, long Elements, long Bytes)>(StringComparer.Ordinal);
        foreach (var t in gguf.Tensors)
        {
            parameters += t.ElementCount;
            var key = t.Type.ToString();
            var (c, e, b) = byType.GetValueOrDefault(key);
            byType[key] = (c + 1, e + t.ElementCount, b + t.ByteSize);
        }

        output.WriteLine($"parameters:      {parameters:N0} ({parameters / 1e6:F1} M), {8.0 * gguf.Tensors.Sum(t => t.ByteSize) / parameters:F2} bits per weight");
        output.WriteLine("tensor types:");
        foreach (var (type, (count, elements, bytes)) in byType)
        {
            output.WriteLine($"  {type,-6} {count,5} tensors  {elements,14:N0} elements  {bytes / 1e6,10:F1} MB");
        }

        var vocabModel = gguf.GetStringOrNull("tokenizer.ggml.model");
        var tokens = gguf.GetArrayOrNull<string>("tokenizer.ggml.tokens");
        var pre = gguf.GetStringOrNull("tokenizer.ggml.pre");
        var kind = vocabModel switch
        {
            "llama" => "SentencePiece (llama)",
            "gpt2" => "byte-level BPE (gpt2)",
            null => "none",
            _ => vocabModel,
        };
        output.WriteLine($"vocabulary:      {kind}{(pre is null ? string.Empty : $", pre-tokenizer '{pre}'")}, {tokens?.Length ?? 0} tokens" +
            $", bos {gguf.GetIntegerOrNull("tokenizer.ggml.bos_token_id")?.ToString(inv) ?? "-"}, eos {gguf.GetIntegerOrNull("tokenizer.ggml.eos_token_id")?.ToString(inv) ?? "-"}");

        output.WriteLine(config.ChatTemplate is null ? "chat template:   (none)" : $"chat template:   {config.ChatTemplate.Length} chars");
        if (config.ChatTemplate is not null)
        {
            foreach (var line in config.ChatTemplate.Split('\n').Take(12))
            {
                output.WriteLine($"  | {line}");
            }
        }

        output.WriteLine(allTensors ? "tensors:" : "tensors (global and layer 0; --all for every one):");
        output.WriteLine($"  {"name",-32} {"type",-6} {"shape",-20} {"bytes",12}");
        foreach (var t in gguf.Tensors)
        {
            if (allTensors || !t.Name.StartsWith("blk.", StringComparison.Ordinal) || t.Name.StartsWith("blk.0.", StringComparison.Ordinal))
            {
                output.WriteLine($"  {t.Name,-32} {t.Type,-6} {t.ShapeText,-20} {t.ByteSize,12:N0}");
            }
        }

        if (allMetadata)
        {
            output.WriteLine("metadata:");
            foreach (var (key, value) in gguf.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                output.WriteLine($"  {key} = {value}");
            }
        }
    }
}
