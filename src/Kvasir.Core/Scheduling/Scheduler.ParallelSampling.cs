using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>The character that joins a parallel-sampling parent's id and a child's index; added request ids may not contain it.</summary>
    public const char ChildIdSeparator = '#';

    /// <summary>The id of child <paramref name="sampleIndex"/> (1..n-1) of a parallel-sampling request: "parent#index".</summary>
    public static string GetChildRequestId(string parentRequestId, int sampleIndex) => $"{parentRequestId}{ChildIdSeparator}{sampleIndex}";

    /// <summary>
    /// Parallel sampling (n &gt; 1): once the parent's prompt is computed, the runner sampled n first tokens from its
    /// last logits; child i (1..n-1) is a request of its own (<see cref="Request.ParentRequestId"/>,
    /// <see cref="Request.SampleIndex"/>) that shares the parent's prompt blocks through copy-on-write
    /// (<c>KvCacheManager.Fork</c>) and gets token i; the parent keeps token 0. The children's sequences were reserved
    /// against MaxNumSeqs when the parent was admitted, so they join the running set at once.
    /// </summary>
    private void ForkGroup(SchedulerEntry parentEntry, ReadOnlySpan<int> firstTokens, ref List<Request>? forked, ref List<Request>? finished)
    {
        Request parent = parentEntry.Request;
        _numReservedSeqs -= parentEntry.NumReservedSeqs; // before the parent's first token ends the reservation
        for (int i = 1; i < firstTokens.Length; i++)
        {
            var child = new Request(GetChildRequestId(parent.RequestId, i), parent.PromptTokenIds, parent.CacheKeys, parent.Priority, parent.ArrivalTime)
            {
                MaxTokens = parent.MaxTokens,
                StopTokenIds = parent.StopTokenIds,
                EosTokenIds = parent.EosTokenIds,
                IgnoreEos = parent.IgnoreEos,
                ParentRequestId = parent.RequestId,
                SampleIndex = i,
                NumComputedTokens = parent.NumComputedTokens,
                NumCachedTokens = parent.NumCachedTokens,
                Status = RequestStatus.Running,
            };
            _kv.Fork(parent, child);
            (forked ??= []).Add(child);
            RequestStatus status = AppendTokens(child, firstTokens.Slice(i, 1));
            if (status != RequestStatus.Running)
            {
                child.Status = status;
                _kv.Free(child);
                _finishedIds.Add(child.RequestId);
                (finished ??= []).Add(child);
                continue;
            }
            var entry = new SchedulerEntry(child, _nextArrivalSeq++, _step);
            _entries.Add(child.RequestId, entry);
            _running.Add(entry);
        }
    }
}
