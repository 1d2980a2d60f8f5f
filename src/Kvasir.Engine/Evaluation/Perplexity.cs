using Kvasir.Engine.KvCache;
using Kvasir.Kernels.Attention;
using Kvasir.Model;

namespace Kvasir.Engine.Evaluation;

/// <summary>
/// Perplexity as llama.cpp's perplexity tool computes it, so that the two can be compared number for number:
/// the text is tokenized once (with BOS when the vocabulary adds it), cut into ⌊tokens / ctx⌋ windows of
/// <c>ctx</c> tokens, the first token of each window is replaced by BOS, and only the second half of each
/// window is scored: the logits at positions ctx/2 … ctx−2 predict the tokens after them.
/// </summary>
/// <remarks>
/// <code>
///  window k:  [BOS] t(k·ctx+1) … t(k·ctx+ctx/2) … t(k·ctx+ctx−1)
///                               └── scored: logits at ctx/2 … ctx−2 against the next token ──┘
/// </code>
/// </remarks>
public static class Perplexity
{
    /// <summary>Most tokens per forward pass (a window runs as several chunks of one sequence).</summary>
    public const int ChunkTokens = 512;

    /// <summary>
    /// Computes the perplexity of <paramref name="tokens"/> (already tokenized, BOS included if the model
    /// adds one) with windows of <paramref name="ctx"/> tokens, calling <paramref name="onWindow"/> after each.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than ctx tokens, or a ctx under 16.</exception>
    public static PerplexityResult Compute(
        LanguageModel model, IReadOnlyList<int> tokens, int ctx, Action<PerplexityWindow>? onWindow = null, int maxWindows = int.MaxValue, KvDataType kvDataType = KvDataType.F16)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        if (ctx < 16)
        {
            throw new ArgumentException($"The window must hold at least 16 tokens, not {ctx}.", nameof(ctx));
        }

        var windows = Math.Min(maxWindows, tokens.Count / ctx);
        if (windows < 1)
        {
            throw new ArgumentException($"The text has {tokens.Count} tokens: at least one window of {ctx} is needed. Use a longer text or a smaller --ctx.", nameof(tokens));
        }

        const int BlockSize = 16;
        var vocab = model.Config.VocabSize;
        var blocks = (ctx + BlockSize - 1) / BlockSize;
        var blockTable = new int[blocks];
        for (var i = 0; i < blocks; i++)
        {
            blockTable[i] = i;
        }

        using var kv = new KvCacheStorage(model.Config, blocks, BlockSize, kvDataType);
        var transformer = model.CreateTransformer();
        var batch = new ForwardBatch(ChunkTokens, 1);
        var logits = new float[ChunkTokens * vocab]; // [chunk, vocab]
        var window = new int[ctx];
        var first = ctx / 2;
        var bos = model.Tokenizer.BosId;
        var results = new List<PerplexityWindow>(windows);
        double totalNll = 0;
        long totalCount = 0;
        for (var w = 0; w < windows; w++)
        {
            for (var i = 0; i < ctx; i++)
            {
                window[i] = tokens[(w * ctx) + i];
            }

            window[0] = bos;
            double nll = 0;
            var count = 0;
            for (var start = 0; start < ctx; start += ChunkTokens)
            {
                var length = Math.Min(ChunkTokens, ctx - start);
                batch.Clear();
                batch.AddSequence(window.AsSpan(start, length), start, start, blockTable, BlockSize, wantLogits: false);
                batch.RequestAllLogits();
                transformer.Forward(batch, kv.Layers, logits);
                for (var i = 0; i < length; i++)
                {
                    var position = start + i;
                    if (position < first || position >= ctx - 1)
                    {
                        continue;
                    }

                    nll -= LogSoftmaxAt(logits.AsSpan(i * vocab, vocab), window[position + 1]);
                    count++;
                }
            }

            totalNll += nll;
            totalCount += count;
            var entry = new PerplexityWindow(w, nll, count, Math.Exp(totalNll / totalCount));
            results.Add(entry);
            onWindow?.Invoke(entry);
        }

        return new PerplexityResult(Math.Exp(totalNll / totalCount), totalCount, results);
    }

    /// <summary>log softmax(logits)[target], in double.</summary>
    public static double LogSoftmaxAt(ReadOnlySpan<float> logits, int target)
    {
        var max = float.NegativeInfinity;
        foreach (var x in logits)
        {
            max = MathF.Max(max, x);
        }

        double sum = 0;
        foreach (var x in logits)
        {
            sum += Math.Exp(x - max);
        }

        return logits[target] - max - Math.Log(sum);
    }
}
