using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>
    /// Finishes a live request at any moment (queued, mid-prefill, mid-decode): the engine calls it for a stop string
    /// (<see cref="RequestStatus.FinishedStopped"/>) and, through <see cref="Abort"/>, for cancellations. Every block
    /// the request held is freed (its cached blocks stay findable); if the request is in the step in flight, the
    /// blocks are freed by that step's <see cref="Update"/>, since the runner may still be writing them.
    /// Parallel-sampling children are requests of their own: finish each by its id.
    /// </summary>
    /// <param name="requestId">The request.</param>
    /// <param name="finishedStatus">A finished status (≥ <see cref="RequestStatus.FinishedStopped"/>).</param>
    /// <returns>False when no live request has that id (already finished, or unknown).</returns>
    public bool Finish(string requestId, RequestStatus finishedStatus)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        if (finishedStatus < RequestStatus.FinishedStopped)
            throw new ArgumentOutOfRangeException(nameof(finishedStatus), finishedStatus, "A request can only be finished with a finished status.");
        if (!_entries.TryGetValue(requestId, out SchedulerEntry? entry) || entry.Request.IsFinished)
            return false;

        Request request = entry.Request;
        if (request.Status == RequestStatus.Running)
        {
            _running.Remove(entry);
            _numReservedSeqs -= entry.NumReservedSeqs;
        }
        else
        {
            _waiting.Remove(entry);
        }
        request.Status = finishedStatus;
        if (_inFlight is not null && entry.ScheduledStep == _step)
        {
            entry.FreeDeferred = true;
        }
        else
        {
            _kv.Free(request);
            _entries.Remove(requestId);
        }
        _finishedIds.Add(requestId);
        return true;
    }

    /// <summary>Cancels a live request at any moment and frees every block it held (see <see cref="Finish"/>).</summary>
    /// <returns>False when no live request has that id.</returns>
    public bool Abort(string requestId) => Finish(requestId, RequestStatus.FinishedAborted);
}
