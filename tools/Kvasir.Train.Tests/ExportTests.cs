using Kvasir.Engine.Generation;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Train.Tests;

/// <summary>A model exported by the trainer runs the same in Kvasir's Transformer as in the trainer's forward pass.</summary>
public class ExportTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ExportedModelGivesTheTrainersLogits(bool tied)
    {
        var vocab = VocabBuilder.TrainBpe(VocabBuilder.DefaultCorpus, 300);
        var config = ModelGradientTests.Tiny with { VocabSize = vocab.Tokens.Length, TiedEmbeddings = tied, FeedForward = 64 };
        var parameters = new ParameterSet(config);
        parameters.Initialize(11);
        var path = Path.Combine(Path.GetTempPath(), $"kvasir-train-export-{tied}-{Environment.ProcessId}.gguf");
        try
        {
            GgufExport.Write(path, parameters, vocab, GgmlType.F32, "test", []);
            using var model = LanguageModel.Open(path);
            var tokens = model.Tokenizer.Encode("And God said, Let there be light: and there was light.");
            var batch = new TrainBatch();
            batch.Add([.. tokens, 0]);
            var trainer = new LlamaTrainer(parameters, 64, 64L * 64 * config.Heads);
            var ours = trainer.ForwardLogits(batch).Slice((tokens.Length - 1) * vocab.Tokens.Length, vocab.Tokens.Length).ToArray();
            using var generator = Generator.ForTokens(model, 64, kvDataType: Kernels.Attention.KvDataType.F32);
            var theirs = generator.LastLogits([tokens])[0];
            double diff = 0, norm = 0;
            for (var i = 0; i < ours.Length; i++)
            {
                diff += (ours[i] - theirs[i]) * (ours[i] - theirs[i]);
                norm += theirs[i] * theirs[i];
            }

            Assert.True(Math.Sqrt(diff / norm) < 1e-4, $"relative L2 error {Math.Sqrt(diff / norm):E2}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
