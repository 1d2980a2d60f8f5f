namespace Kvasir.Engine.Evaluation;

/// <summary>The score of one window of a perplexity run.</summary>
/// <param name="Index">Window number, from 0.</param>
/// <param name="NegativeLogLikelihood">Σ −log p over the scored tokens of this window (natural log).</param>
/// <param name="ScoredTokens">Tokens scored in this window (the second half, less one).</param>
/// <param name="RunningPerplexity">exp(mean −log p) over all windows so far.</param>
public sealed record PerplexityWindow(int Index, double NegativeLogLikelihood, int ScoredTokens, double RunningPerplexity);
