namespace Kvasir.Core.Scheduling;

/// <summary>The outcome of <see cref="Scheduler.AddRequest"/>: accepted, or why not, in words the server can return.</summary>
/// <param name="Status">Accepted or the reason for the rejection.</param>
/// <param name="ErrorMessage">Null when accepted; otherwise what is wrong, with the numbers involved and what to try.</param>
public readonly record struct AddRequestResult(AddRequestStatus Status, string? ErrorMessage)
{
    /// <summary>The result of an accepted request.</summary>
    public static AddRequestResult Accepted => new(AddRequestStatus.Accepted, null);

    /// <summary>True when the request was queued.</summary>
    public bool IsAccepted => Status == AddRequestStatus.Accepted;
}
