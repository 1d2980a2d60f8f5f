using System.Diagnostics;
using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

public sealed partial class Scheduler
{
    private readonly List<SchedulerEntry> _scheduled = [];   // this step's requests, in output order (kept until Update)
    private readonly List<string> _preemptedIds = [];        // preempted in this step

    /// <summary>
    /// Schedules one step: running requests first, in admission order, each given
    /// min(NumTokens - NumComputedTokens, LongPrefillTokenThreshold if set, budget left) new tokens, preempting by
    /// recompute when KV memory is short; then, if nobody was preempted, waiting requests in the admission policy's
    /// order, each starting at its prefix-cache hit. Stops at <see cref="SchedulerConfig.MaxNumBatchedTokens"/>
    /// tokens and <see cref="SchedulerConfig.MaxNumSeqs"/> sequences.
    /// </summary>
    /// <returns>The step for the runner. Pass it to <see cref="Update"/> unless it <see cref="SchedulerOutput.IsEmpty"/>.</returns>
    /// <exception cref="InvalidOperationException">The previous step was not updated yet.</exception>
    public SchedulerOutput Schedule()
    {
        if (_inFlight is not null)
            throw new InvalidOperationException($"Step {_inFlight.Step} is still in flight: call Update with its output and the runner's before scheduling the next step.");
        _step++;
        _scheduled.Clear();
        _preemptedIds.Clear();

        int budget = Config.MaxNumBatchedTokens;
        int numLongPrefills = 0;
        ScheduleRunning(ref budget, ref numLongPrefills);
        // vLLM's rule: a step that had to preempt is short of memory, so it admits nobody.
        if (_preemptedIds.Count == 0)
            ScheduleWaiting(ref budget, ref numLongPrefills);

        Debug.Assert(_running.Count + _numReservedSeqs <= Config.MaxNumSeqs, "Running sequences (and reserved forks) stay within MaxNumSeqs.");
        SchedulerOutput output = BuildOutput(Config.MaxNumBatchedTokens - budget);
        LastStepNumScheduledTokens = output.TotalNumScheduledTokens;
        LastStepNumScheduledRequests = output.ScheduledRequests.Length;
        return output;
    }

    /// <summary>Gives running requests their tokens, preempting when KV memory is short.</summary>
    private void ScheduleRunning(ref int budget, ref int numLongPrefills)
    {
        int threshold = Config.LongPrefillTokenThreshold;
        for (int i = 0; i < _running.Count && budget > 0; i++)
        {
            SchedulerEntry entry = _running[i];
            Request request = entry.Request;
            int numNew = request.NumTokens - request.NumComputedTokens;
            bool isLong = threshold > 0 && numNew > threshold;
            if (isLong)
            {
                if (numLongPrefills >= Config.MaxLongPartialPrefills)
                    continue;
                numNew = threshold;
            }
            numNew = Math.Min(numNew, budget);
            Debug.Assert(request.NumComputedTokens + numNew <= _maxSeqLen, "A running request never needs KV beyond MaxSeqLen.");
            if (numNew <= 0)
                continue;

            bool scheduled = true;
            while (_kv.AllocateSlots(request, numNew) is null)
            {
                SchedulerEntry victim = SelectVictim();
                int victimIndex = _running.IndexOf(victim);
                Preempt(victim, victimIndex);
                if (victim == entry)
                {
                    scheduled = false;
                    i--; // the next request moved into slot i
                    break;
                }
                if (victimIndex < i)
                    i--;
            }
            if (!scheduled)
                continue;
            AddScheduled(entry, numNew);
            budget -= numNew;
            if (isLong)
                numLongPrefills++;
        }
    }

    private void AddScheduled(SchedulerEntry entry, int numNewTokens)
    {
        entry.ScheduledStep = _step;
        entry.NumScheduledTokens = numNewTokens;
        _scheduled.Add(entry);
    }

    /// <summary>Turns this step's decisions into plain data; marks the step in flight when anything runs.</summary>
    private SchedulerOutput BuildOutput(int totalTokens)
    {
        int count = _scheduled.Count;
        var requests = count == 0 ? [] : new ScheduledRequest[count];
        int[] tokenBuffer = totalTokens == 0 ? [] : new int[totalTokens]; // [TotalNumScheduledTokens], sliced per request
        int offset = 0;
        for (int k = 0; k < count; k++)
        {
            SchedulerEntry entry = _scheduled[k];
            Request request = entry.Request;
            int start = request.NumComputedTokens;
            int numNew = entry.NumScheduledTokens;
            request.TokenIds.Slice(start, numNew).CopyTo(tokenBuffer.AsSpan(offset, numNew));
            bool wantLogits = start + numNew == request.NumTokens;
            int numSamples = !wantLogits ? 0 : entry.NumReservedSeqs + 1;
            requests[k] = new ScheduledRequest(
                request.RequestId,
                new ReadOnlyMemory<int>(tokenBuffer, offset, numNew),
                FirstPosition: start,
                KvLenBefore: start,
                CurrentBlockTable(entry),
                wantLogits,
                numSamples);
            offset += numNew;
        }
        Debug.Assert(offset == totalTokens);

        BlockCopy[] copies = _kv.TakePendingCopies();
        string[] finished = _finishedIds.Count == 0 ? [] : [.. _finishedIds];
        _finishedIds.Clear();
        string[] preempted = _preemptedIds.Count == 0 ? [] : [.. _preemptedIds];
        var output = new SchedulerOutput(_step, requests, totalTokens, copies, finished, preempted);
        if (count > 0)
            _inFlight = output;
        return output;
    }

    /// <summary>The request's block table as an array, reusing the last one handed out when the table is unchanged.</summary>
    private int[] CurrentBlockTable(SchedulerEntry entry)
    {
        ReadOnlySpan<int> table = _kv.GetBlockIds(entry.Request);
        if (!table.SequenceEqual(entry.BlockTable))
            entry.BlockTable = table.ToArray();
        return entry.BlockTable;
    }
}
