namespace Kvasir.Core.Scheduling;

/// <summary>
/// What the runner returns for a step: one <see cref="SampledTokens"/> per scheduled request that wanted logits
/// (<see cref="ScheduledRequest.WantLogits"/>), in the order of <see cref="SchedulerOutput.ScheduledRequests"/>.
/// </summary>
/// <param name="Sampled">The sampled tokens, one entry per scheduled request with logits, in schedule order.</param>
public sealed record ModelRunnerOutput(SampledTokens[] Sampled)
{
    /// <summary>The output of a step in which nothing was sampled.</summary>
    public static ModelRunnerOutput Empty { get; } = new([]);
}
