using System.Diagnostics;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

public sealed partial class Scheduler
{
    private readonly List<SchedulerEntry> _victimCandidates = [];
    private Request[] _victimRequests = [];

    /// <summary>
    /// Picks the request to preempt: among running requests not yet scheduled in this step (the one asking included:
    /// a request scheduled in this step has had blocks allocated and cached for tokens the runner has not computed yet,
    /// so freeing it could let another request hit blocks with no KV in them), skipping those resumed less than
    /// <see cref="SchedulerConfig.ResumeGraceSteps"/> steps ago unless no other is left; the policy chooses among them
    /// in arrival order.
    /// </summary>
    private SchedulerEntry SelectVictim()
    {
        List<SchedulerEntry> candidates = _victimCandidates;
        candidates.Clear();
        bool anyUnprotected = false;
        foreach (SchedulerEntry entry in _running)
            anyUnprotected |= entry.ScheduledStep != _step && !IsProtected(entry);
        foreach (SchedulerEntry entry in _running)
        {
            if (entry.ScheduledStep != _step && !(anyUnprotected && IsProtected(entry)))
                candidates.Add(entry);
        }
        Debug.Assert(candidates.Count > 0, "The request asking for blocks is itself a candidate.");
        candidates.Sort(static (a, b) => a.ArrivalSeq.CompareTo(b.ArrivalSeq));

        if (_victimRequests.Length < candidates.Count)
            _victimRequests = new Request[Math.Max(candidates.Count, _victimRequests.Length * 2)];
        for (int i = 0; i < candidates.Count; i++)
            _victimRequests[i] = candidates[i].Request;
        int victim = Config.PreemptionPolicy.SelectVictim(_victimRequests.AsSpan(0, candidates.Count));
        if ((uint)victim >= (uint)candidates.Count)
            throw new InvalidOperationException($"Preemption policy '{Config.PreemptionPolicy.Name}' returned index {victim} for {candidates.Count} candidates.");
        Array.Clear(_victimRequests, 0, candidates.Count);
        return candidates[victim];
    }

    /// <summary>The thrash guard: resumed less than ResumeGraceSteps steps ago.</summary>
    private bool IsProtected(SchedulerEntry entry) =>
        entry.ResumedStep != long.MinValue && _step - entry.ResumedStep < Config.ResumeGraceSteps;

    /// <summary>
    /// Preemption by recompute: frees the request's blocks (their cached ones stay findable, so resuming is mostly a
    /// prefix-cache hit), resets its computed tokens and puts it back in the waiting queue, where it sorts before the
    /// new arrivals the policy ranks equal with it.
    /// </summary>
    private void Preempt(SchedulerEntry entry, int runningIndex)
    {
        Request request = entry.Request;
        Debug.Assert(_running[runningIndex] == entry);
        Debug.Assert(entry.ScheduledStep != _step, "A request scheduled in this step is never preempted in it.");
        _running.RemoveAt(runningIndex);
        _numReservedSeqs -= entry.NumReservedSeqs;
        _kv.Free(request);
        request.NumComputedTokens = 0;
        request.Status = RequestStatus.Preempted;
        request.NumPreemptions++;
        entry.BlockTable = [];
        entry.WaitingSinceStep = _step;
        entry.NumOvertakes = 0;
        _waiting.Add(entry);
        _preemptedIds.Add(request.RequestId);
        NumPreemptions++;
    }

    /// <summary>
    /// The readmission watermark: a preempted request comes back only when the free blocks cover all its tokens plus
    /// the next one, and the watermark on top (capped at the whole pool, which an idle engine always has). Otherwise
    /// it would recompute its prefix only to be preempted again by the others' next decode steps.
    /// </summary>
    private bool CanReadmit(Request request)
    {
        int needed = CeilDiv(request.NumTokens + 1, _kv.BlockSize) + _readmissionWatermarkBlocks;
        return _kv.NumFreeBlocks >= Math.Min(needed, _kv.NumBlocks);
    }
}
