using System.Diagnostics;
using System.Runtime.InteropServices;
using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

public sealed partial class Scheduler
{
    private Request[] _waitingRequests = [];       // [waiting] scratch for the admission policy
    private long[] _policyKeys = [];                // [waiting]
    private WaitingOrderKey[] _orderKeys = [];      // [waiting]
    private readonly List<long> _admittedSeqs = []; // arrival numbers admitted in this step

    /// <summary>
    /// Admits waiting requests in order (see <see cref="OrderWaiting"/>) while tokens, sequences and KV memory last.
    /// A request that cannot be admitted stops admission (nobody behind it overtakes it for memory or budget), except
    /// a long prefill beyond <see cref="SchedulerConfig.MaxLongPartialPrefills"/>, which shorter prompts may pass,
    /// unless it is starving.
    /// </summary>
    private void ScheduleWaiting(ref int budget, ref int numLongPrefills)
    {
        if (_waiting.Count == 0 || budget == 0 || _running.Count + _numReservedSeqs >= Config.MaxNumSeqs)
            return;
        OrderWaiting();
        _admittedSeqs.Clear();
        int threshold = Config.LongPrefillTokenThreshold;
        int numAdmitted = 0;
        for (int w = 0; w < _waiting.Count && budget > 0; w++)
        {
            SchedulerEntry entry = _waiting[w];
            Request request = entry.Request;
            if (_running.Count + _numReservedSeqs + 1 + entry.NumReservedSeqs > Config.MaxNumSeqs)
                break;
            if (request.Status == RequestStatus.Preempted && !CanReadmit(request))
                break;

            (KvCacheBlocks hit, int numHitTokens) = _kv.GetComputedBlocks(request);
            int numNew = request.NumTokens - numHitTokens;
            bool isLong = threshold > 0 && numNew > threshold;
            if (isLong)
            {
                if (numLongPrefills >= Config.MaxLongPartialPrefills)
                {
                    if (entry.IsStarving)
                        break;
                    continue;
                }
                numNew = threshold;
            }
            numNew = Math.Min(numNew, budget);
            if (_kv.AllocateSlots(request, numNew, numHitTokens, hit) is null)
                break;

            Admit(entry, numHitTokens);
            _waiting[w] = null!; // compacted below
            numAdmitted++;
            _admittedSeqs.Add(entry.ArrivalSeq);
            AddScheduled(entry, numNew);
            budget -= numNew;
            if (isLong)
                numLongPrefills++;
        }
        if (numAdmitted > 0)
        {
            _waiting.RemoveAll(static e => e is null);
            CountOvertakes();
        }
    }

    private void Admit(SchedulerEntry entry, int numHitTokens)
    {
        Request request = entry.Request;
        if (request.Status == RequestStatus.Preempted)
            entry.ResumedStep = _step;
        request.Status = RequestStatus.Running;
        request.NumComputedTokens = numHitTokens;
        if (request.NumCachedTokens < 0)
            request.NumCachedTokens = numHitTokens;
        NumPrefixCacheHitTokens += numHitTokens;
        entry.IsStarving = false;
        _running.Add(entry);
        _numReservedSeqs += entry.NumReservedSeqs;
    }

    /// <summary>
    /// Sorts the waiting queue for admission: starving requests first (by arrival), then by the policy's key, then
    /// preempted before new, then by arrival. A request is starving once more than StarvationMaxOvertakes later
    /// arrivals were admitted while it waited, or it waited more than StarvationMaxWaitingSteps steps.
    /// </summary>
    private void OrderWaiting()
    {
        int n = _waiting.Count;
        if (_waitingRequests.Length < n)
        {
            int capacity = Math.Max(n, _waitingRequests.Length * 2);
            _waitingRequests = new Request[capacity];
            _policyKeys = new long[capacity];
            _orderKeys = new WaitingOrderKey[capacity];
        }

        Span<SchedulerEntry> waiting = CollectionsMarshal.AsSpan(_waiting);
        for (int i = 0; i < n; i++)
            _waitingRequests[i] = waiting[i].Request;
        Config.AdmissionPolicy.GetAdmissionKeys(_waitingRequests.AsSpan(0, n), _policyKeys.AsSpan(0, n), _kv);

        for (int i = 0; i < n; i++)
        {
            SchedulerEntry entry = waiting[i];
            entry.IsStarving = entry.NumOvertakes > Config.StarvationMaxOvertakes
                || _step - entry.WaitingSinceStep > Config.StarvationMaxWaitingSteps;
            _orderKeys[i] = new WaitingOrderKey(entry.IsStarving, _policyKeys[i], entry.Request.Status == RequestStatus.Preempted, entry.ArrivalSeq);
        }
        _orderKeys.AsSpan(0, n).Sort(waiting);
        Array.Clear(_waitingRequests, 0, n);
    }

    /// <summary>Each request still waiting was overtaken once by every later arrival admitted in this step.</summary>
    private void CountOvertakes()
    {
        _admittedSeqs.Sort();
        int numAdmitted = _admittedSeqs.Count;
        foreach (SchedulerEntry entry in _waiting)
        {
            int index = _admittedSeqs.BinarySearch(entry.ArrivalSeq);
            Debug.Assert(index < 0, "An admitted request left the queue.");
            int numLater = numAdmitted - ~index;
            entry.NumOvertakes += numLater;
        }
    }
}
