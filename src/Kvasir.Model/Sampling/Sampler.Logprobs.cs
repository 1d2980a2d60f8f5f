namespace Kvasir.Model.Sampling;

// Raw log-probabilities of the last sampled token and of the most likely alternatives (vLLM's default
// raw_logprobs mode: log-softmax of the model's logits before bias, penalties, temperature and truncation).
public sealed partial class Sampler
{
    private readonly int[] _topIds;         // [Logprobs ?? 0] most likely token ids, best first
    private readonly float[] _topLogprobs;  // [Logprobs ?? 0] their raw log-probabilities

    /// <summary>Raw log-probability of the token returned by the last <see cref="Sample"/> call; NaN when <see cref="SamplingParams.Logprobs"/> is null.</summary>
    public float SampledLogprob { get; private set; } = float.NaN;

    /// <summary>1-based rank of the last sampled token among all tokens by raw logit (1 = most likely; equal logits share the better rank); 0 when logprobs are off.</summary>
    public int SampledRank { get; private set; }

    /// <summary>Token ids of the most likely alternatives at the last call, best first (ties: lower id first). Length <see cref="SamplingParams.Logprobs"/>; valid until the next call.</summary>
    public ReadOnlySpan<int> TopLogprobTokenIds => _topIds;

    /// <summary>Raw log-probabilities matching <see cref="TopLogprobTokenIds"/>; valid until the next call.</summary>
    public ReadOnlySpan<float> TopLogprobs => _topLogprobs;

    /// <summary>The top alternatives of the last call as a new array of (token id, log-probability), best first.</summary>
    public (int TokenId, float Logprob)[] CopyTopLogprobs()
    {
        var top = new (int, float)[_topIds.Length];
        for (var i = 0; i < top.Length; i++)
        {
            top[i] = (_topIds[i], _topLogprobs[i]);
        }

        return top;
    }

    /// <summary>Copies the top alternatives of the last call into caller buffers; returns how many were written.</summary>
    /// <param name="tokenIds">Receives token ids, best first.</param>
    /// <param name="logprobs">Receives the matching raw log-probabilities.</param>
    public int GetTopLogprobs(Span<int> tokenIds, Span<float> logprobs)
    {
        int count = Math.Min(_topIds.Length, Math.Min(tokenIds.Length, logprobs.Length));
        _topIds.AsSpan(0, count).CopyTo(tokenIds);
        _topLogprobs.AsSpan(0, count).CopyTo(logprobs);
        return count;
    }

    private void ComputeLogprobs(ReadOnlySpan<float> logits, int token)
    {
        // Pass 1: the maximum, the sampled token's rank, and the top N (NaN counts as -∞, as in sampling).
        // The top N go by insertion into a short sorted list: N <= 20, and almost every logit fails the first test.
        float sampled = Raw(logits, token);
        float max = float.NegativeInfinity;
        int greater = 0;
        int capacity = _topIds.Length;
        int filled = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float v = Raw(logits, i);
            if (v > max)
                max = v;
            if (v > sampled)
                greater++;
            if (filled == capacity && (capacity == 0 || !(v > _topLogprobs[capacity - 1])))
                continue;
            int j = filled < capacity ? filled++ : capacity - 1;
            // Strictly greater moves up, so an equal value stays behind the lower id already in the list.
            while (j > 0 && v > _topLogprobs[j - 1])
            {
                _topLogprobs[j] = _topLogprobs[j - 1];
                _topIds[j] = _topIds[j - 1];
                j--;
            }
            _topLogprobs[j] = v;
            _topIds[j] = i;
        }

        // Pass 2: log-sum-exp, the exponentials in float and their sum in double.
        double sum = 0;
        foreach (float v in logits)
        {
            if (v > float.NegativeInfinity)
                sum += MathF.Exp(v - max);
        }
        float logSumExp = max + (float)Math.Log(sum);

        SampledLogprob = sampled - logSumExp;
        SampledRank = greater + 1;
        for (int i = 0; i < capacity; i++)
            _topLogprobs[i] -= logSumExp;
    }

    private static float Raw(ReadOnlySpan<float> logits, int i)
    {
        float v = logits[i];
        return float.IsNaN(v) ? float.NegativeInfinity : v;
    }
}
