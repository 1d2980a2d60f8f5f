namespace Kvasir.Engine.Evaluation;

/// <summary>The outcome of <see cref="Perplexity.Compute"/>.</summary>
/// <param name="Value">exp(Σ −log p / scored tokens).</param>
/// <param name="ScoredTokens">Tokens scored over all windows.</param>
/// <param name="Windows">Each window's score, in order.</param>
public sealed record PerplexityResult(double Value, long ScoredTokens, IReadOnlyList<PerplexityWindow> Windows)
{
    /// <summary>Mean negative log-likelihood per scored token (nats).</summary>
    public double MeanNegativeLogLikelihood => Math.Log(Value);
}
