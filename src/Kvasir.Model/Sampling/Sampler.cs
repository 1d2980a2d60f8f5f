namespace Kvasir.Model.Sampling;

/// <summary>
/// Picks the next token of one sequence from the model's logits. One sampler per sequence: it owns the
/// sequence's random generator and preallocated buffers, so <see cref="Sample"/> allocates nothing.
/// </summary>
/// <remarks>
/// <para>The pipeline, in this order (on a private copy; the caller's logits are never modified):</para>
/// <list type="number">
/// <item>logit bias (added);</item>
/// <item>repetition penalty over the last <see cref="SamplingParams.RepeatLastN"/> tokens of prompt + output,
/// then presence and frequency penalties over the output tokens;</item>
/// <item>temperature 0: argmax (lowest id on ties), no random number is drawn;</item>
/// <item>otherwise: temperature, top-k, top-p, min-p, then one draw from the renormalised distribution.</item>
/// </list>
/// <para>Ties between equal logits are always broken towards the lower token id, so the candidate set is exact
/// and the result is a pure function of (seed, logits, tokens). Logits that are NaN or -∞ are never sampled
/// (unless every logit is, in which case token 0 is returned).</para>
/// <para>Log-probabilities (<see cref="SamplingParams.Logprobs"/>) are vLLM's default raw log-probabilities:
/// the log-softmax of the logits as the model produced them, before any step above.</para>
/// </remarks>
public sealed partial class Sampler
{
    private readonly SamplingParams _params;
    private readonly int _vocabSize;
    private readonly int[] _biasIds;        // [numBiased] token ids of SamplingParams.LogitBias
    private readonly float[] _biasValues;   // [numBiased] their biases
    private readonly float[] _work;         // [vocab] processed logits, then unnormalised probabilities of candidates
    private readonly int[] _candidates;     // [vocab] candidate token ids; [.._numKept] after the last Sample
    private readonly int[] _counts;         // [vocab] scratch counters, all zero between calls
    private Xoshiro256StarStar _rng;
    private int _numKept;

    /// <summary>Creates a sampler for one sequence.</summary>
    /// <param name="samplingParams">The sequence's parameters; must pass <see cref="SamplingParams.Validate(int)"/>.</param>
    /// <param name="vocabSize">Number of logits the model produces per token.</param>
    /// <exception cref="ArgumentException">The parameters are invalid for this vocabulary.</exception>
    public Sampler(SamplingParams samplingParams, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(samplingParams);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        string? error = samplingParams.Validate(vocabSize);
        if (error is not null)
            throw new ArgumentException(error, nameof(samplingParams));

        _params = samplingParams;
        _vocabSize = vocabSize;
        int numBiased = samplingParams.LogitBias?.Count ?? 0;
        _biasIds = new int[numBiased];
        _biasValues = new float[numBiased];
        if (samplingParams.LogitBias is not null)
        {
            // Sorted by id so that the order of application never depends on the dictionary's enumeration order.
            int i = 0;
            foreach (var (tokenId, bias) in samplingParams.LogitBias)
            {
                _biasIds[i] = tokenId;
                _biasValues[i] = bias;
                i++;
            }
            Array.Sort(_biasIds, _biasValues);
        }
        _work = new float[vocabSize];
        _candidates = new int[vocabSize];
        _counts = new int[vocabSize];
        int numTop = samplingParams.Logprobs ?? 0;
        _topIds = new int[numTop];
        _topLogprobs = new float[numTop];
        Seed = samplingParams.Seed ?? DrawSeed();
        _rng = new Xoshiro256StarStar(Seed);
    }

    /// <summary>The seed this sampler's generator started from: the request's, or the one drawn for it (log it to reproduce a run).</summary>
    public ulong Seed { get; }

    /// <summary>The parameters this sampler applies.</summary>
    public SamplingParams Params => _params;

    /// <summary>Number of logits expected per call.</summary>
    public int VocabSize => _vocabSize;

    /// <summary>Token ids that survived the filters in the last <see cref="Sample"/> call (tests and diagnostics). Valid until the next call.</summary>
    internal ReadOnlySpan<int> KeptCandidates => _candidates.AsSpan(0, _numKept);

    /// <summary>The logits after bias and penalties, before temperature, as left by <see cref="ApplyBiasAndPenalties"/> (tests).</summary>
    internal ReadOnlySpan<float> ProcessedLogits => _work;

    /// <summary>A seed for a request that brought none, from a process-wide source.</summary>
    public static ulong DrawSeed() => (ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue);

    /// <summary>
    /// Samples the next token. Applies the pipeline described on <see cref="Sampler"/>, advances the random
    /// generator by one draw unless greedy, and fills the log-probabilities when they were asked for.
    /// </summary>
    /// <param name="logits">[vocabSize] the model's logits for this position; not modified.</param>
    /// <param name="promptTokens">The prompt's token ids (for the repetition penalty window).</param>
    /// <param name="generatedTokens">The tokens generated so far (repetition, presence and frequency penalties).</param>
    /// <returns>The sampled token id.</returns>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> generatedTokens)
    {
        if (logits.Length != _vocabSize)
            throw new ArgumentException($"Expected {_vocabSize} logits, got {logits.Length}.", nameof(logits));

        ApplyBiasAndPenalties(logits, promptTokens, generatedTokens);
        int token = _params.Temperature == 0f ? SampleGreedy() : SampleRandom();
        if (_params.Logprobs is not null)
            ComputeLogprobs(logits, token);
        return token;
    }

    /// <summary>Steps 1-2: copies the logits into <see cref="_work"/> (NaN becomes -∞), adds the bias, applies the penalties.</summary>
    internal void ApplyBiasAndPenalties(ReadOnlySpan<float> logits, ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> generatedTokens)
    {
        Span<float> work = _work;
        for (int i = 0; i < work.Length; i++)
        {
            float v = logits[i];
            work[i] = float.IsNaN(v) ? float.NegativeInfinity : v;
        }
        for (int i = 0; i < _biasIds.Length; i++)
            work[_biasIds[i]] += _biasValues[i];

        if (_params.RepetitionPenalty != 1f && _params.RepeatLastN != 0)
            ApplyRepetitionPenalty(work, promptTokens, generatedTokens);
        if (_params.PresencePenalty != 0f || _params.FrequencyPenalty != 0f)
            ApplyPresenceAndFrequencyPenalties(work, generatedTokens);
    }

    private void ApplyRepetitionPenalty(Span<float> work, ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> generatedTokens)
    {
        // The window is the last RepeatLastN tokens of prompt ++ output.
        int window = _params.RepeatLastN;
        ReadOnlySpan<int> fromOutput = generatedTokens;
        ReadOnlySpan<int> fromPrompt = promptTokens;
        if (window >= 0)
        {
            if (generatedTokens.Length >= window)
            {
                fromOutput = generatedTokens[^window..];
                fromPrompt = [];
            }
            else
            {
                int rest = Math.Min(window - generatedTokens.Length, promptTokens.Length);
                fromPrompt = promptTokens[^rest..];
            }
        }

        // Each distinct token is penalised once however often it occurs; _counts marks the ones done.
        float penalty = _params.RepetitionPenalty;
        PenaliseOnce(work, fromPrompt, penalty);
        PenaliseOnce(work, fromOutput, penalty);
        foreach (int t in fromPrompt)
            _counts[t] = 0;
        foreach (int t in fromOutput)
            _counts[t] = 0;
    }

    private void PenaliseOnce(Span<float> work, ReadOnlySpan<int> tokens, float penalty)
    {
        foreach (int t in tokens)
        {
            if (_counts[t] != 0)
                continue;
            _counts[t] = 1;
            float v = work[t];
            work[t] = v > 0f ? v / penalty : v * penalty;
        }
    }

    private void ApplyPresenceAndFrequencyPenalties(Span<float> work, ReadOnlySpan<int> generatedTokens)
    {
        foreach (int t in generatedTokens)
            _counts[t]++;
        float presence = _params.PresencePenalty;
        float frequency = _params.FrequencyPenalty;
        foreach (int t in generatedTokens)
        {
            int count = _counts[t];
            if (count == 0)
                continue; // already applied for an earlier occurrence
            work[t] -= (count * frequency) + presence;
            _counts[t] = 0;
        }
    }

    private int SampleGreedy()
    {
        int token = ArgMax(_work);
        _candidates[0] = token;
        _numKept = 1;
        return token;
    }

    /// <summary>Index of the largest value, the lowest index on ties; 0 when every value is -∞.</summary>
    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        float bestValue = values[0];
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > bestValue)
            {
                bestValue = values[i];
                best = i;
            }
        }
        return best;
    }
}
