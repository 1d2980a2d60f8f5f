using Kvasir.Core.KvCache;

namespace Kvasir.Core.Scheduling;

/// <summary>
/// What the scheduler decided for one step, as plain data for the runner (which never sees a <c>Request</c>):
/// the requests to run with their tokens and block tables, the copy-on-write block copies to do before the
/// forward pass, and the requests that finished or were preempted since the last step (so that the runner can drop
/// any state it keeps per request). Pass it back to <see cref="Scheduler.Update"/> with the runner's output.
/// </summary>
/// <param name="Step">The step number (1 for the first <see cref="Scheduler.Schedule"/>).</param>
/// <param name="ScheduledRequests">The requests to run, running ones first, then newly admitted ones.</param>
/// <param name="TotalNumScheduledTokens">The sum of the scheduled requests' token counts (at most MaxNumBatchedTokens).</param>
/// <param name="BlockCopies">Copy-on-write copies (source block → destination block, every layer's K and V) to do, in order, before the forward pass.</param>
/// <param name="FinishedRequestIds">Requests that finished (stop, length, engine stop string) or were aborted since the previous step, whether or not they ever ran: the runner drops any state it keeps for them.</param>
/// <param name="PreemptedRequestIds">Requests preempted in this step: their blocks were freed and they will be recomputed.</param>
public sealed record SchedulerOutput(
    long Step,
    ScheduledRequest[] ScheduledRequests,
    int TotalNumScheduledTokens,
    BlockCopy[] BlockCopies,
    string[] FinishedRequestIds,
    string[] PreemptedRequestIds)
{
    /// <summary>True when no request runs this step (the runner has nothing to do; <see cref="Scheduler.Update"/> is optional).</summary>
    public bool IsEmpty => ScheduledRequests.Length == 0;
}
