namespace Kvasir.Engine.ChatClient;

/// <summary>
/// The engine refused a request from <see cref="KvasirChatClient"/>: the queue is full, the prompt does not fit,
/// the parameters are invalid, or the engine is shutting down. <see cref="Status"/> says which.
/// </summary>
public sealed class EngineRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EngineRejectedException(SubmitStatus status, string message)
        : base(message)
    {
        Status = status;
    }

    /// <summary>Why the engine refused the request.</summary>
    public SubmitStatus Status { get; }
}
