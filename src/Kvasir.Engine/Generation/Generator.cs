using Kvasir.Engine.KvCache;
using Kvasir.Kernels;
using Kvasir.Kernels.Attention;
using Kvasir.Model;
using Kvasir.Model.Sampling;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Engine.Generation;

/// <summary>
/// Runs a model over a paged KV cache without a scheduler: streaming generation of one sequence, and
/// batched prefill/decode of several sequences in one forward pass each step. The continuous-batching
/// engine builds on the same pieces (ForwardBatch, Transformer, KvCacheStorage); this class is what the
/// CLI and the oracle tests use until then. Not thread-safe: one caller at a time.
/// </summary>
public sealed class Generator : IDisposable
{
    private readonly LanguageModel _model;
    private readonly Transformer _transformer;
    private readonly KvCacheStorage _kv;
    private readonly Stack<int> _freeBlocks;
    private readonly ForwardBatch _batch = new();
    private float[] _logits;

    /// <summary>Creates a generator with a KV arena of <paramref name="numBlocks"/> blocks.</summary>
    public Generator(LanguageModel model, int numBlocks, int blockSize = 16, KvDataType kvDataType = KvDataType.F16, int prefillChunk = 512,
        MatMulActivations activations = MatMulActivations.Int8)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefillChunk, 1);
        _model = model;
        _transformer = model.CreateTransformer(activations);
        _kv = new KvCacheStorage(model.Config, numBlocks, blockSize, kvDataType);
        _freeBlocks = new Stack<int>(Enumerable.Range(0, numBlocks).Reverse());
        _logits = new float[model.Config.VocabSize];
        PrefillChunk = prefillChunk;
    }

    /// <summary>Creates a generator whose arena holds <paramref name="tokens"/> tokens (rounded up to whole blocks).</summary>
    public static Generator ForTokens(LanguageModel model, int tokens, int blockSize = 16, KvDataType kvDataType = KvDataType.F16)
        => new(model, Math.Max(1, (tokens + blockSize - 1) / blockSize), blockSize, kvDataType);

    /// <summary>The model.</summary>
    public LanguageModel Model => _model;

    /// <summary>The KV arena.</summary>
    public KvCacheStorage KvCache => _kv;

    /// <summary>Most prompt tokens run in one forward pass.</summary>
    public int PrefillChunk { get; }

    /// <summary>Blocks not held by any sequence.</summary>
    public int NumFreeBlocks => _freeBlocks.Count;

    /// <summary>
    /// Generates from a prompt, streaming tokens as they are sampled. The KV blocks of the sequence are
    /// freed when the enumeration ends, whether it finished, was cancelled or was abandoned.
    /// </summary>
    public IEnumerable<GeneratedToken> Generate(IReadOnlyList<int> prompt, SamplingParams samplingParams, CancellationToken cancellationToken = default)
        => GenerateCore(prompt, samplingParams, cancellationToken);

    /// <summary>
    /// Runs each prompt through the model in one batch and returns the last position's logits of each
    /// ([prompts][VocabSize]). The KV blocks are freed afterwards.
    /// </summary>
    public float[][] LastLogits(IReadOnlyList<int[]> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var seqs = new List<Sequence>();
        try
        {
            _batch.Clear();
            foreach (var p in prompts)
            {
                var s = Start(p.Length);
                seqs.Add(s);
                s.AddChunk(_batch, p, _kv.BlockSize, wantLogits: true);
            }

            var logits = Run();
            var result = new float[prompts.Count][];
            var vocab = _model.Config.VocabSize;
            for (var i = 0; i < prompts.Count; i++)
            {
                result[i] = logits.Slice(i * vocab, vocab).ToArray();
            }

            return result;
        }
        finally
        {
            foreach (var s in seqs)
            {
                Release(s);
            }
        }
    }

    /// <summary>
    /// Greedy-decodes several prompts together: one batched prefill, then every step one forward pass over
    /// all sequences still running. Returns the generated ids of each prompt and, when asked, the top-two
    /// logit gap at each step (for judging near-ties against an oracle).
    /// </summary>
    public int[][] GenerateGreedyBatch(IReadOnlyList<int[]> prompts, int maxTokens, List<float>[]? topTwoGaps = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var n = prompts.Count;
        var seqs = new Sequence[n];
        var outputs = new List<int>[n];
        var vocab = _model.Config.VocabSize;
        try
        {
            _batch.Clear();
            for (var i = 0; i < n; i++)
            {
                seqs[i] = Start(prompts[i].Length + maxTokens);
                seqs[i].AddChunk(_batch, prompts[i], _kv.BlockSize, wantLogits: true);
                outputs[i] = [];
            }

            var logits = Run();
            Span<int> next = stackalloc int[1];
            for (var step = 0; step < maxTokens; step++)
            {
                for (var i = 0; i < n; i++)
                {
                    var row = logits.Slice(i * vocab, vocab);
                    var (best, gap) = ArgMaxWithGap(row);
                    outputs[i].Add(best);
                    topTwoGaps?[i].Add(gap);
                }

                if (step == maxTokens - 1)
                {
                    break;
                }

                _batch.Clear();
                for (var i = 0; i < n; i++)
                {
                    next[0] = outputs[i][^1];
                    seqs[i].AddChunk(_batch, next, _kv.BlockSize, wantLogits: true);
                }

                logits = Run();
            }

            var result = new int[n][];
            for (var i = 0; i < n; i++)
            {
                result[i] = [.. outputs[i]];
            }

            return result;
        }
        finally
        {
            foreach (var s in seqs)
            {
                if (s is not null)
                {
                    Release(s);
                }
            }
        }
    }

    /// <summary>Frees the KV arena.</summary>
    public void Dispose() => _kv.Dispose();

    private IEnumerable<GeneratedToken> GenerateCore(IReadOnlyList<int> prompt, SamplingParams p, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(p);
        if (prompt.Count == 0)
        {
            throw new ArgumentException("The prompt is empty: give at least one token.", nameof(prompt));
        }

        var contextLength = _model.Config.ContextLength;
        if (prompt.Count >= contextLength)
        {
            throw new ArgumentException($"The prompt has {prompt.Count} tokens; the model's context is {contextLength} tokens.", nameof(prompt));
        }

        var maxTokens = Math.Min(p.MaxTokens, contextLength - prompt.Count);
        var capacityTokens = _kv.TotalTokens;
        if (prompt.Count + maxTokens > capacityTokens)
        {
            maxTokens = (int)Math.Max(0, capacityTokens - prompt.Count);
            if (maxTokens == 0)
            {
                throw new ArgumentException($"The prompt has {prompt.Count} tokens; the KV cache holds {capacityTokens}.", nameof(prompt));
            }
        }

        var tokenizer = _model.Tokenizer;
        var sampler = new Sampler(p, _model.Config.VocabSize);
        var detokenizer = new IncrementalDetokenizer(tokenizer);
        var stops = p.StopStrings.Count > 0 ? new StopStringMatcher(p.StopStrings) : null;
        var promptArray = prompt as int[] ?? [.. prompt];
        var generated = new List<int>(maxTokens);
        var seq = Start(prompt.Count + maxTokens);
        try
        {
            // Prefill in chunks; only the last chunk asks for logits.
            for (var start = 0; start < promptArray.Length; start += PrefillChunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var len = Math.Min(PrefillChunk, promptArray.Length - start);
                _batch.Clear();
                seq.AddChunk(_batch, promptArray.AsSpan(start, len), _kv.BlockSize, wantLogits: start + len == promptArray.Length);
                Run();
            }

            var one = new int[1];
            while (true)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    yield return new GeneratedToken(-1, string.Empty, null, null, FinishReason.Abort);
                    yield break;
                }

                var token = sampler.Sample(_logits.AsSpan(0, _model.Config.VocabSize), promptArray, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(generated));
                generated.Add(token);
                float? logprob = null;
                IReadOnlyList<(int, float)>? top = null;
                if (p.Logprobs is not null)
                {
                    logprob = sampler.SampledLogprob;
                    top = sampler.CopyTopLogprobs();
                }

                FinishReason? finish = null;
                var isEnd = (!p.IgnoreEos && tokenizer.IsEndOfGeneration(token)) || Contains(p.StopTokenIds, token);
                var atLimit = generated.Count >= maxTokens;
                var text = isEnd ? detokenizer.Flush() : detokenizer.Append(token);
                if (atLimit && !isEnd)
                {
                    text += detokenizer.Flush();
                }

                if (stops is not null)
                {
                    var emit = stops.Append(text).ToString();
                    if (stops.IsStopped)
                    {
                        finish = FinishReason.Stop;
                    }
                    else if (isEnd || atLimit)
                    {
                        emit += stops.Flush().ToString();
                    }

                    text = emit;
                }

                finish ??= isEnd ? FinishReason.Stop : atLimit ? FinishReason.Length : null;
                yield return new GeneratedToken(token, text, logprob, top, finish);
                if (finish is not null)
                {
                    yield break;
                }

                one[0] = token;
                _batch.Clear();
                seq.AddChunk(_batch, one, _kv.BlockSize, wantLogits: true);
                Run();
            }
        }
        finally
        {
            Release(seq);
        }
    }

    private static bool Contains(IReadOnlyList<int> list, int value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The index of the largest logit and its gap to the runner-up (for judging near-ties).</summary>
    internal static (int Best, float Gap) ArgMaxWithGap(ReadOnlySpan<float> row)
    {
        var best = 0;
        var first = float.NegativeInfinity;
        var second = float.NegativeInfinity;
        for (var i = 0; i < row.Length; i++)
        {
            if (row[i] > first)
            {
                second = first;
                first = row[i];
                best = i;
            }
            else if (row[i] > second)
            {
                second = row[i];
            }
        }

        return (best, first - second);
    }

    private ReadOnlySpan<float> Run()
    {
        var needed = _batch.NumLogits * _model.Config.VocabSize;
        if (_logits.Length < needed)
        {
            _logits = new float[needed];
        }

        _transformer.Forward(_batch, _kv.Layers, _logits);
        return _logits.AsSpan(0, needed);
    }

    private Sequence Start(int maxTokens)
    {
        var blocks = (maxTokens + _kv.BlockSize - 1) / _kv.BlockSize;
        if (blocks > _freeBlocks.Count)
        {
            throw new InvalidOperationException($"The KV cache has {_freeBlocks.Count} free blocks of {_kv.BlockSize} tokens; {maxTokens} tokens need {blocks}.");
        }

        var table = new int[blocks];
        for (var i = 0; i < blocks; i++)
        {
            table[i] = _freeBlocks.Pop();
        }

        return new Sequence(table);
    }

    private void Release(Sequence s)
    {
        if (s.Released)
        {
            return;
        }

        s.Released = true;
        for (var i = s.BlockTable.Length - 1; i >= 0; i--)
        {
            _freeBlocks.Push(s.BlockTable[i]);
        }
    }

    /// <summary>One running sequence: its block table (reserved up front) and how many tokens it has stored.</summary>
    private sealed class Sequence(int[] blockTable)
    {
        public int[] BlockTable { get; } = blockTable;

        public int NumComputedTokens { get; private set; }

        public bool Released { get; set; }

        public void AddChunk(ForwardBatch batch, ReadOnlySpan<int> tokens, int blockSize, bool wantLogits)
        {
            batch.AddSequence(tokens, NumComputedTokens, NumComputedTokens, BlockTable, blockSize, wantLogits);
            NumComputedTokens += tokens.Length;
        }
    }
}
