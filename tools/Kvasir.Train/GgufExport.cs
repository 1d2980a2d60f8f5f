using Kvasir.Kernels.Quant;
using Kvasir.Model.Gguf;
using Kvasir.Model.Making;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Train;

/// <summary>Writes trained parameters as a llama GGUF, with the same keys and layout as <see cref="ModelMaker"/>.</summary>
internal static class GgufExport
{
    public static void Write(string path, ParameterSet parameters, TokenizerVocab vocab, GgmlType matrixType, string name, IEnumerable<KeyValuePair<string, object>> extraMetadata)
    {
        var c = parameters.Config;
        const string Arch = "llama";
        var w = new GgufWriter();
        w.Add("general.architecture", Arch);
        w.Add("general.name", name);
        w.Add("general.file_type", matrixType switch { GgmlType.F16 => 1u, GgmlType.Q8_0 => 7u, _ => 0u });
        w.Add($"{Arch}.context_length", (uint)c.ContextLength);
        w.Add($"{Arch}.embedding_length", (uint)c.Dim);
        w.Add($"{Arch}.block_count", (uint)c.Layers);
        w.Add($"{Arch}.feed_forward_length", (uint)c.FeedForward);
        w.Add($"{Arch}.attention.head_count", (uint)c.Heads);
        w.Add($"{Arch}.attention.head_count_kv", (uint)c.KvHeads);
        w.Add($"{Arch}.attention.layer_norm_rms_epsilon", c.NormEps);
        w.Add($"{Arch}.rope.freq_base", c.RopeFreqBase);
        w.Add($"{Arch}.rope.dimension_count", (uint)c.HeadDim);
        w.Add($"{Arch}.vocab_size", (uint)vocab.Tokens.Length);
        foreach (var (key, value) in vocab.ToGgufMetadata())
        {
            w.Add(key, value);
        }

        // The ChatML template that made models carry (the vocabulary has <|im_start|> and <|im_end|>).
        if (new MakeModelOptions().ChatTemplate is { } template)
        {
            w.Add("tokenizer.chat_template", template);
        }

        foreach (var (key, value) in extraMetadata)
        {
            w.Add(key, value);
        }

        foreach (var t in parameters.Tensors)
        {
            var values = parameters.Of(t).ToArray();
            if (t.Rows == 1)
            {
                w.AddTensor(t.Name, [t.Cols], values, GgmlType.F32);
            }
            else
            {
                w.AddTensor(t.Name, [t.Cols, t.Rows], values, matrixType);
            }
        }

        w.Write(path);
    }
}
