using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>Preempts the newest request (vLLM's FCFS choice): the oldest requests keep running and finish first.</summary>
public sealed class NewestFirstPreemptionPolicy : IPreemptionPolicy
{
    private NewestFirstPreemptionPolicy()
    {
    }

    /// <summary>The policy (it has no state).</summary>
    public static NewestFirstPreemptionPolicy Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "newest";

    /// <inheritdoc/>
    public int SelectVictim(ReadOnlySpan<Request> candidates) => candidates.Length - 1;
}
