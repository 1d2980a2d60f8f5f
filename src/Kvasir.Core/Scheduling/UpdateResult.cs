using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>What <see cref="Scheduler.Update"/> changed besides appending tokens.</summary>
/// <param name="Finished">Requests that finished in this update (stop token, end of sequence, max_tokens or context length), with their blocks already freed.</param>
/// <param name="Forked">Parallel-sampling children created in this update (they start running with their first token appended).</param>
public sealed record UpdateResult(IReadOnlyList<Request> Finished, IReadOnlyList<Request> Forked)
{
    /// <summary>The result of an update that finished and forked nothing.</summary>
    public static UpdateResult Empty { get; } = new([], []);
}
