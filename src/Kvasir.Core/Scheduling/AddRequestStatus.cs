namespace Kvasir.Core.Scheduling;

/// <summary>The outcome of <see cref="Scheduler.AddRequest"/>.</summary>
public enum AddRequestStatus
{
    /// <summary>Queued.</summary>
    Accepted,

    /// <summary>The prompt is longer than the context length (HTTP 400).</summary>
    PromptTooLong,

    /// <summary>The prompt needs more KV blocks than the whole pool holds (HTTP 400).</summary>
    ExceedsKvCapacity,

    /// <summary>Parallel sampling asks for more sequences than run at once (HTTP 400).</summary>
    TooManySamples,

    /// <summary>The waiting queue is full (HTTP 429 with Retry-After).</summary>
    QueueFull,

    /// <summary>The request is malformed: duplicate id, already started, or a limit out of range (a caller bug; HTTP 400).</summary>
    Invalid,
}
