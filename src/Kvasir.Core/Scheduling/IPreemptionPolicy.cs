using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>
/// Chooses the request to preempt when a running request cannot get KV blocks. The candidates are the running
/// requests not yet scheduled in this step (the one asking included), minus those the thrash guard protects
/// (<see cref="SchedulerConfig.ResumeGraceSteps"/>) unless that would leave none.
/// </summary>
public interface IPreemptionPolicy
{
    /// <summary>Short name for logs and metrics ("newest", "priority", "least-computed").</summary>
    string Name { get; }

    /// <summary>Returns the index in <paramref name="candidates"/> of the request to preempt.</summary>
    /// <param name="candidates">At least one request, in arrival order (the order the scheduler received them: the last is the newest).</param>
    int SelectVictim(ReadOnlySpan<Request> candidates);
}
