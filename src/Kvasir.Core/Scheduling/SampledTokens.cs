namespace Kvasir.Core.Scheduling;

/// <summary>The tokens the runner sampled for one scheduled request.</summary>
/// <param name="RequestId">The request's id (must match the scheduled request it answers).</param>
/// <param name="TokenIds">
/// The sampled token ids: one normally; NumSamples on the step that forks a parallel-sampling group (index 0 for
/// the parent, i for child i); more than one for a request that is not forking means consecutive tokens (for a
/// future speculative decoder), appended in order until a stop.
/// </param>
/// <param name="Logprobs">Opaque log-probability payload for the engine (the scheduler never reads it).</param>
public readonly record struct SampledTokens(string RequestId, ReadOnlyMemory<int> TokenIds, object? Logprobs = null);
