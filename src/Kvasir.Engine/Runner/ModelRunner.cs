using Kvasir.Core.Scheduling;
using Kvasir.Engine.KvCache;
using Kvasir.Model;
using Kvasir.Model.Sampling;

namespace Kvasir.Engine.Runner;

/// <summary>
/// Executes a step: block copies (copy-on-write), one batched forward pass over every scheduled token, and
/// sampling of each request whose chunk reached the end of its tokens. It sees plain scheduler output,
/// never a Request; per-sequence sampling state (sampler, prompt and generated ids for penalties) is kept
/// here by request id.
/// </summary>
public sealed class ModelRunner : IDisposable
{
    private readonly Transformer _transformer;
    private readonly KvCacheStorage _kv;
    private readonly ForwardBatch _batch = new();
    private readonly Dictionary<string, SequenceSampling> _sequences = new(StringComparer.Ordinal);
    private readonly int _vocabSize;
    private float[] _logits;

    /// <summary>Creates a runner over a model and its KV arena.</summary>
    public ModelRunner(LanguageModel model, KvCacheStorage kv)
    {
        ArgumentNullException.ThrowIfNull(model);
        _transformer = model.CreateTransformer();
        _kv = kv ?? throw new ArgumentNullException(nameof(kv));
        _vocabSize = model.Config.VocabSize;
        _logits = new float[_vocabSize * 16];
    }

    /// <summary>The KV arena.</summary>
    public KvCacheStorage KvCache => _kv;

    /// <summary>Sequences with sampling state.</summary>
    public int NumSequences => _sequences.Count;

    /// <summary>
    /// Registers a request's sampling state: <paramref name="n"/> samplers (one per completion; with a seed,
    /// completion i is seeded from seed and i, so each is reproducible on its own).
    /// </summary>
    public void AddSequence(string requestId, int[] promptTokenIds, SamplingParams sampling, int n)
    {
        ArgumentNullException.ThrowIfNull(sampling);
        var samplers = new Sampler[n];
        var generated = new List<int>[n];
        for (var i = 0; i < n; i++)
        {
            var p = sampling.Seed is { } seed && i > 0 ? sampling with { Seed = seed + (ulong)i } : sampling;
            samplers[i] = new Sampler(p, _vocabSize);
            generated[i] = new List<int>(Math.Min(sampling.MaxTokens, 4096));
        }

        _sequences[requestId] = new SequenceSampling(promptTokenIds, samplers, generated, sampling.Logprobs is not null);
    }

    /// <summary>Moves completion <paramref name="sampleIndex"/> of a parallel-sampling request to its own forked sequence.</summary>
    public void Fork(string parentRequestId, string childRequestId, int sampleIndex)
    {
        var parent = _sequences[parentRequestId];
        _sequences[childRequestId] = new SequenceSampling(parent.Prompt, [parent.Samplers[sampleIndex]], [parent.Generated[sampleIndex]], parent.WantLogprobs);
    }

    /// <summary>Forgets a sequence's sampling state (finished or aborted).</summary>
    public void Remove(string requestId) => _sequences.Remove(requestId);

    /// <summary>Runs one step and returns the sampled tokens, in schedule order.</summary>
    public ModelRunnerOutput Execute(SchedulerOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (var copy in output.BlockCopies)
        {
            _kv.CopyBlock(copy.SrcBlockId, copy.DstBlockId);
        }

        var numLogits = BatchBuilder.Build(output, _kv.BlockSize, _batch);
        if (_batch.NumTokens == 0)
        {
            return ModelRunnerOutput.Empty;
        }

        if (_logits.Length < numLogits * _vocabSize)
        {
            _logits = new float[numLogits * _vocabSize];
        }

        _transformer.Forward(_batch, _kv.Layers, _logits);

        var sampled = new SampledTokens[numLogits];
        var row = 0;
        foreach (var r in output.ScheduledRequests)
        {
            if (!r.WantLogits)
            {
                continue;
            }

            var logits = _logits.AsSpan(row * _vocabSize, _vocabSize);
            var s = _sequences[r.RequestId];
            var k = Math.Max(1, r.NumSamples);
            var tokens = new int[k];
            var logprobs = s.WantLogprobs ? new TokenLogprob[k] : null;
            for (var i = 0; i < k; i++)
            {
                var sampler = s.Samplers[i];
                var token = sampler.Sample(logits, s.Prompt, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(s.Generated[i]));
                s.Generated[i].Add(token);
                tokens[i] = token;
                if (logprobs is not null)
                {
                    logprobs[i] = new TokenLogprob(token, sampler.SampledLogprob, sampler.CopyTopLogprobs());
                }
            }

            sampled[row++] = new SampledTokens(r.RequestId, tokens, logprobs);
        }

        return new ModelRunnerOutput(sampled);
    }

    /// <summary>Frees the KV arena.</summary>
    public void Dispose() => _kv.Dispose();

    private sealed record SequenceSampling(int[] Prompt, Sampler[] Samplers, List<int>[] Generated, bool WantLogprobs);
}
