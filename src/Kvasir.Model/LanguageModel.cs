using Kvasir.Kernels;
using Kvasir.Model.Gguf;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Model;

/// <summary>
/// A model file opened for use: the mapped GGUF file, its hyper-parameters, its weights and its tokenizer.
/// Thread-safe to share; each thread that runs the model creates its own <see cref="Transformer"/>.
/// </summary>
public sealed class LanguageModel : IDisposable
{
    private LanguageModel(GgufFile file, ModelConfig config, ModelWeights weights, Tokenizer tokenizer)
    {
        File = file;
        Config = config;
        Weights = weights;
        Tokenizer = tokenizer;
    }

    /// <summary>The mapped file.</summary>
    public GgufFile File { get; }

    /// <summary>Hyper-parameters.</summary>
    public ModelConfig Config { get; }

    /// <summary>Weights (in place in the mapped file, or in the memory the file's data was read into).</summary>
    public ModelWeights Weights { get; }

    /// <summary>The tokenizer built from the file's vocabulary.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>
    /// Opens a model, its weights read into huge-page memory where the OS offers it (<see cref="WeightMemory.Auto"/>).
    /// A damaged or unsupported file raises <see cref="ModelFormatException"/>; a missing one
    /// <see cref="FileNotFoundException"/>.
    /// </summary>
    public static LanguageModel Open(string path) => Open(path, WeightMemory.Auto);

    /// <summary>Opens a model with its weights where <paramref name="memory"/> says.</summary>
    /// <param name="path">The GGUF file.</param>
    /// <param name="memory">Mapped in place, read into huge-page memory, or Auto (huge pages where available).</param>
    public static LanguageModel Open(string path, WeightMemory memory)
    {
        var file = GgufFile.Open(path, memory);
        try
        {
            var config = ModelConfig.FromGguf(file);
            var weights = ModelWeights.Load(file, config);
            var vocab = TokenizerVocab.FromGguf(file);
            if (vocab.Tokens.Length != config.VocabSize)
            {
                throw new ModelFormatException(path, $"the vocabulary has {vocab.Tokens.Length} tokens but the embedding has {config.VocabSize} rows.",
                    "key 'tokenizer.ggml.tokens'", "The file is damaged or was converted wrongly: convert it again.");
            }

            Tokenizer tokenizer;
            try
            {
                tokenizer = Tokenizer.Create(vocab);
            }
            catch (ArgumentException e)
            {
                throw new ModelFormatException(path, e.Message, "key 'tokenizer.ggml.model'", "Kvasir supports SentencePiece (llama) and byte-level BPE (gpt2) vocabularies.");
            }

            return new LanguageModel(file, config, weights, tokenizer);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A forward pass bound to this model's weights (one per thread that runs the model).</summary>
    public Transformer CreateTransformer(MatMulActivations activations = MatMulActivations.Int8) => new(Config, Weights, activations);

    /// <summary>Unmaps the file.</summary>
    public void Dispose() => File.Dispose();
}
