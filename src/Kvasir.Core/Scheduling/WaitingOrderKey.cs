namespace Kvasir.Core.Scheduling;

/// <summary>
/// Sort key of a waiting request: starving requests first (by arrival), then the admission policy's key, then
/// preempted requests (resumed at the front), then arrival. Arrival sequence numbers are unique, so the order is total.
/// </summary>
internal readonly record struct WaitingOrderKey(bool IsStarving, long PolicyKey, bool IsPreempted, long ArrivalSeq) : IComparable<WaitingOrderKey>
{
    public int CompareTo(WaitingOrderKey other)
    {
        if (IsStarving != other.IsStarving)
            return IsStarving ? -1 : 1;
        if (!IsStarving)
        {
            int c = PolicyKey.CompareTo(other.PolicyKey);
            if (c != 0)
                return c;
            if (IsPreempted != other.IsPreempted)
                return IsPreempted ? -1 : 1;
        }
        return ArrivalSeq.CompareTo(other.ArrivalSeq);
    }
}
