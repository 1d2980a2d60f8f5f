using System.Threading.Channels;
using Kvasir.Core.Scheduling;

namespace Kvasir.Engine;

/// <summary>The engine's answer to a submitted request: accepted with a stream of deltas, or rejected with a reason.</summary>
public sealed record SubmitResult
{
    /// <summary>Accepted or why not (QueueFull maps to HTTP 429, PromptTooLong/ExceedsKvCapacity/Invalid to 400, ShuttingDown to 503).</summary>
    public required SubmitStatus Status { get; init; }

    /// <summary>A message that says what is wrong and what to do, when rejected.</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>The request's deltas, in order; completes after every sequence's final delta. Null when rejected.</summary>
    public ChannelReader<TokenDelta>? Deltas { get; init; }

    /// <summary>True when accepted.</summary>
    public bool IsAccepted => Status == SubmitStatus.Accepted;

    internal static SubmitResult From(AddRequestResult r) => new()
    {
        Status = r.Status switch
        {
            AddRequestStatus.Accepted => SubmitStatus.Accepted,
            AddRequestStatus.QueueFull => SubmitStatus.QueueFull,
            AddRequestStatus.PromptTooLong => SubmitStatus.PromptTooLong,
            AddRequestStatus.ExceedsKvCapacity => SubmitStatus.ExceedsKvCapacity,
            _ => SubmitStatus.Invalid,
        },
        ErrorMessage = r.ErrorMessage,
    };
}

/// <summary>Outcome of submitting a request.</summary>
public enum SubmitStatus
{
    /// <summary>Queued; deltas will follow.</summary>
    Accepted,

    /// <summary>The waiting queue is at its bound: try again later (HTTP 429).</summary>
    QueueFull,

    /// <summary>The prompt (plus the tokens asked for) exceeds the model's context (HTTP 400).</summary>
    PromptTooLong,

    /// <summary>The prompt needs more KV blocks than the whole pool (HTTP 400).</summary>
    ExceedsKvCapacity,

    /// <summary>Something else about the request is invalid (HTTP 400).</summary>
    Invalid,

    /// <summary>The engine is shutting down (HTTP 503).</summary>
    ShuttingDown,
}
