using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>The scheduler's bookkeeping for one live request (the <see cref="Requests.Request"/> holds what the request is; this holds how it is being scheduled).</summary>
internal sealed class SchedulerEntry
{
    public SchedulerEntry(Request request, long arrivalSeq, long step)
    {
        Request = request;
        ArrivalSeq = arrivalSeq;
        WaitingSinceStep = step;
    }

    /// <summary>The request.</summary>
    public Request Request { get; }

    /// <summary>Order in which the scheduler received the request (children of a fork get theirs when forked): the tie-break of every ordering.</summary>
    public long ArrivalSeq { get; }

    /// <summary>Step at which the request (re)joined the waiting queue.</summary>
    public long WaitingSinceStep { get; set; }

    /// <summary>Later arrivals admitted while this request waited (since it last joined the queue).</summary>
    public int NumOvertakes { get; set; }

    /// <summary>Set while ordering the waiting queue: the starvation bound was passed, so nobody may overtake it.</summary>
    public bool IsStarving { get; set; }

    /// <summary>Step of the last readmission after a preemption (the thrash guard), or <see cref="long.MinValue"/>.</summary>
    public long ResumedStep { get; set; } = long.MinValue;

    /// <summary>Last step in which the request was scheduled (it is then no preemption candidate in that step).</summary>
    public long ScheduledStep { get; set; } = -1;

    /// <summary>Tokens scheduled in <see cref="ScheduledStep"/>.</summary>
    public int NumScheduledTokens { get; set; }

    /// <summary>Finished while its step was in flight: its blocks are freed by the step's Update.</summary>
    public bool FreeDeferred { get; set; }

    /// <summary>The last block table handed to the runner; reused while the table is unchanged (never mutated).</summary>
    public int[] BlockTable { get; set; } = [];

    /// <summary>Sequences reserved for the children a parallel-sampling request will fork (NumSamples - 1 until it has forked).</summary>
    public int NumReservedSeqs => Request.NumSamples > 1 && Request.NumOutputTokens == 0 ? Request.NumSamples - 1 : 0;
}
