using Kvasir.Engine.Evaluation;

namespace Kvasir.Train;

/// <summary>
/// The numbers logged during training: mean loss over fixed held-out text windows, and the teacher-forced
/// pass-key accuracy (every answer digit token the argmax) over fixed held-out documents of the context length.
/// </summary>
internal sealed class HeldOutEvaluator(LlamaTrainer trainer, int[] heldStream, PassKeyDocumentBuilder heldDocs, int bos, int contextLength, int textLength)
{
    public const int TextWindows = 24;
    public const int PassKeyDocs = 8;

    public (double Loss, double PassKey) Run(ulong seed)
    {
        var rng = new Random(unchecked((int)seed) ^ 0x5EED);
        double loss = 0, weight = 0;
        var window = new int[textLength];
        for (var w = 0; w < TextWindows; w += 8)
        {
            var batch = new TrainBatch();
            for (var i = w; i < w + 8; i++)
            {
                window[0] = bos;
                Array.Copy(heldStream, rng.Next(heldStream.Length - textLength), window, 1, textLength - 1);
                batch.Add(window);
            }

            var (l, wt) = trainer.Evaluate(batch);
            loss += l;
            weight += wt;
        }

        var correct = 0;
        var vocab = trainer.Params.Config.VocabSize;
        for (var d = 0; d < PassKeyDocs; d++)
        {
            var doc = heldDocs.Build(rng, contextLength);
            var batch = new TrainBatch();
            batch.Add(doc.Tokens);
            var logits = trainer.ForwardLogits(batch);
            var ok = true;
            for (var i = doc.PromptLength; i < doc.PromptLength + doc.AnswerLength - 1; i++)
            {
                // Position i - 1 predicts token i.
                var row = logits.Slice((i - 1) * vocab, vocab);
                var best = 0;
                for (var v = 1; v < vocab; v++)
                {
                    if (row[v] > row[best])
                    {
                        best = v;
                    }
                }

                ok &= best == doc.Tokens[i];
            }

            correct += ok ? 1 : 0;
        }

        return (loss / weight, (double)correct / PassKeyDocs);
    }
}
