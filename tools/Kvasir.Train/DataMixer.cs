using Kvasir.Engine.Evaluation;

namespace Kvasir.Train;

/// <summary>
/// Makes each step's batch: pass-key documents (curriculum: their length grows from
/// <see cref="MinDocLength"/> to the context length over the first <see cref="CurriculumFraction"/> of training)
/// and plain-text windows of <see cref="TextLength"/> tokens from the training stream, to a token budget.
/// Deterministic in (seed, step).
/// </summary>
internal sealed class DataMixer(int[] stream, PassKeyDocumentBuilder docs, int contextLength, int bos, ulong seed)
{
    public int TextLength { get; init; } = 256;

    public int MinDocLength { get; init; } = 128;

    public float CurriculumFraction { get; init; } = 0.5f;

    /// <summary>Step at which the curriculum starts (a later phase of training can restart it from short documents).</summary>
    public int CurriculumStart { get; init; }

    /// <summary>Fraction of each batch's tokens given to pass-key documents.</summary>
    public float PassKeyShare { get; init; } = 0.5f;

    /// <summary>
    /// Fraction of each batch's tokens given to copy documents (BOS, a passage, the same passage again): every
    /// token of the repeat is predictable only by looking back, the dense signal that makes induction heads form.
    /// </summary>
    public float CopyShare { get; init; }

    /// <summary>
    /// Fraction of each batch's tokens given to random copy documents: BOS, tokens drawn independently from the
    /// training stream (its unigram distribution, no order), then the same tokens again. Unlike a repeated
    /// passage, nothing but copying predicts the repeat, so these push hardest toward induction heads.
    /// </summary>
    public float RandomCopyShare { get; init; }

    /// <summary>Where random copy documents draw their tokens (uniformly by index): the training stream by default.</summary>
    public int[]? CopySource { get; init; }

    /// <summary>Loss weight of the answer tokens of a pass-key document.</summary>
    public float AnswerWeight { get; init; } = 3f;

    /// <summary>The batch of step <paramref name="step"/> of <paramref name="totalSteps"/>.</summary>
    public TrainBatch Batch(int step, int totalSteps, int tokenBudget)
    {
        var rng = new Random(unchecked((int)(seed * 1_000_003UL)) ^ (step * 7919));
        var batch = new TrainBatch();
        var progress = Math.Clamp((step - CurriculumStart) / (CurriculumFraction * (totalSteps - CurriculumStart)), 0f, 1f);
        var maxDoc = (int)(MinDocLength + ((contextLength - MinDocLength) * progress));
        var docBudget = (int)(tokenBudget * PassKeyShare);
        var weights = new List<float>();
        while (batch.NumTokens < docBudget)
        {
            var length = Math.Min(docBudget - batch.NumTokens + 1, rng.Next(maxDoc / 2, maxDoc + 1));
            if (length < Math.Max(64, MinDocLength / 2))
            {
                break;
            }

            var doc = docs.Build(rng, length);
            weights.Clear();
            for (var i = 1; i < doc.Tokens.Length; i++)
            {
                // The answer digits (not the final ".\n") carry extra weight: they are the retrieval signal.
                var inAnswer = i >= doc.PromptLength && i < doc.PromptLength + doc.AnswerLength - 1;
                weights.Add(inAnswer ? AnswerWeight : 1f);
            }

            batch.Add(doc.Tokens, weights.ToArray());
        }

        var copyBudget = batch.NumTokens + (int)(tokenBudget * CopyShare);
        while (batch.NumTokens + (maxDoc / 2) <= copyBudget)
        {
            var length = Math.Min(copyBudget - batch.NumTokens + 1, rng.Next(maxDoc / 2, maxDoc + 1));
            var half = (length - 1) / 2;
            var copy = new int[1 + (2 * half)];
            copy[0] = bos;
            var start = rng.Next(stream.Length - half);
            Array.Copy(stream, start, copy, 1, half);
            Array.Copy(stream, start, copy, 1 + half, half);
            batch.Add(copy);
        }

        var randomBudget = batch.NumTokens + (int)(tokenBudget * RandomCopyShare);
        while (batch.NumTokens + 32 <= randomBudget)
        {
            var length = Math.Min(randomBudget - batch.NumTokens + 1, rng.Next(maxDoc / 2, maxDoc + 1));
            batch.Add(RandomCopy(CopySource ?? stream, bos, rng, (length - 1) / 2), RandomCopyWeights((length - 1) / 2));
        }

        var window = new int[TextLength];
        while (batch.NumTokens + TextLength - 1 <= tokenBudget)
        {
            window[0] = bos;
            var start = rng.Next(stream.Length - TextLength);
            Array.Copy(stream, start, window, 1, TextLength - 1);
            batch.Add(window);
        }

        return batch;
    }

    /// <summary>The <paramref name="count"/> most frequent token ids of <paramref name="stream"/> other than <paramref name="bos"/>.</summary>
    public static int[] MostFrequent(int[] stream, int bos, int count)
    {
        var counts = new Dictionary<int, int>();
        foreach (var t in stream)
        {
            counts[t] = counts.GetValueOrDefault(t) + 1;
        }

        return [.. counts.Where(kv => kv.Key != bos).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Take(count).Select(kv => kv.Key)];
    }

    /// <summary>BOS, <paramref name="half"/> tokens drawn independently from <paramref name="stream"/>, the same tokens again.</summary>
    public static int[] RandomCopy(int[] stream, int bos, Random rng, int half)
    {
        var copy = new int[1 + (2 * half)];
        copy[0] = bos;
        for (var i = 1; i <= half; i++)
        {
            copy[i] = stream[rng.Next(stream.Length)];
        }

        Array.Copy(copy, 1, copy, 1 + half, half);
        return copy;
    }

    // The first half of a random copy document is unpredictable noise: only the repeat carries loss.
    private static float[] RandomCopyWeights(int half)
    {
        var w = new float[2 * half];
        w.AsSpan(half).Fill(1f);
        return w;
    }
}
