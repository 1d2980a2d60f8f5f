using Kvasir.Engine.Evaluation;

namespace Kvasir.Train;

/// <summary>
/// The numbers logged during training: mean loss over fixed held-out text windows; the teacher-forced
/// pass-key accuracy (every answer digit token the argmax) over fixed held-out documents of
/// <see cref="ShortLength"/> tokens and of the context length; and the copy accuracy (share of the repeated
/// half of random copy documents predicted by the argmax), which rises when induction heads form.
/// </summary>
internal sealed class HeldOutEvaluator(LlamaTrainer trainer, int[] heldStream, PassKeyDocumentBuilder heldDocs, int bos, int contextLength, int textLength, int[]? copySource = null)
{
    public const int TextWindows = 24;
    public const int PassKeyDocs = 8;
    public const int ShortLength = 256;
    public const int CopyDocs = 8;
    public const int CopyHalf = 64;

    public Result Run(ulong seed)
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

        var passKey = PassKey(rng, contextLength);
        var passKeyShort = PassKey(rng, Math.Min(ShortLength, contextLength));
        var copied = 0;
        for (var d = 0; d < CopyDocs; d++)
        {
            var doc = DataMixer.RandomCopy(copySource ?? heldStream, bos, rng, CopyHalf);
            var batch = new TrainBatch();
            batch.Add(doc);
            var logits = trainer.ForwardLogits(batch);
            for (var i = CopyHalf + 2; i < doc.Length; i++)
            {
                copied += ArgMax(logits, i - 1) == doc[i] ? 1 : 0;
            }
        }

        return new Result(loss / weight, passKey, passKeyShort, (double)copied / (CopyDocs * (CopyHalf - 1)));
    }

    private double PassKey(Random rng, int length)
    {
        var correct = 0;
        for (var d = 0; d < PassKeyDocs; d++)
        {
            var doc = heldDocs.Build(rng, length);
            var batch = new TrainBatch();
            batch.Add(doc.Tokens);
            var logits = trainer.ForwardLogits(batch);
            var ok = true;
            for (var i = doc.PromptLength; i < doc.PromptLength + doc.AnswerLength - 1; i++)
            {
                ok &= ArgMax(logits, i - 1) == doc.Tokens[i];
            }

            correct += ok ? 1 : 0;
        }

        return (double)correct / PassKeyDocs;
    }

    // The most likely next token after position `position` (which predicts token position + 1).
    private int ArgMax(ReadOnlySpan<float> logits, int position)
    {
        var vocab = trainer.Params.Config.VocabSize;
        var row = logits.Slice(position * vocab, vocab);
        var best = 0;
        for (var v = 1; v < vocab; v++)
        {
            if (row[v] > row[best])
            {
                best = v;
            }
        }

        return best;
    }

    /// <summary>Held-out loss (nats per token), pass-key accuracy at the context length and at <see cref="ShortLength"/>, copy accuracy.</summary>
    public readonly record struct Result(double Loss, double PassKey, double PassKeyShort, double Copy);
}
