namespace Kvasir.Core.Requests;

/// <summary>Where a request is in its life. Every finished state compares ≥ <see cref="FinishedStopped"/>.</summary>
public enum RequestStatus
{
    /// <summary>Queued, holds no KV blocks.</summary>
    Waiting,

    /// <summary>Scheduled: holds KV blocks and gets tokens each step.</summary>
    Running,

    /// <summary>Evicted from the running set to free KV memory; its blocks were freed and it will be recomputed (its prefix may still hit the cache).</summary>
    Preempted,

    /// <summary>Finished on an end-of-sequence token, a stop token id or a stop string.</summary>
    FinishedStopped,

    /// <summary>Finished on max_tokens or the model's context length.</summary>
    FinishedLength,

    /// <summary>Cancelled by the client or the server (disconnect, timeout, shutdown).</summary>
    FinishedAborted,

    /// <summary>Rejected without running (for example a prompt longer than the context).</summary>
    FinishedIgnored,
}
