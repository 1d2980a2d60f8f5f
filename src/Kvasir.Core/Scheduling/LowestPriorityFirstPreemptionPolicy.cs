using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>Preempts the least urgent request (the highest <see cref="Request.Priority"/> value), the newest among equals (vLLM's priority choice).</summary>
public sealed class LowestPriorityFirstPreemptionPolicy : IPreemptionPolicy
{
    private LowestPriorityFirstPreemptionPolicy()
    {
    }

    /// <summary>The policy (it has no state).</summary>
    public static LowestPriorityFirstPreemptionPolicy Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "priority";

    /// <inheritdoc/>
    public int SelectVictim(ReadOnlySpan<Request> candidates)
    {
        int victim = 0;
        for (int i = 1; i < candidates.Length; i++)
        {
            if (candidates[i].Priority >= candidates[victim].Priority)
                victim = i;
        }
        return victim;
    }
}
