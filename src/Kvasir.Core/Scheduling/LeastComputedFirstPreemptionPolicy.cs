using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>
/// Preempts the request with the fewest computed tokens, the newest among equals: recompute by preemption throws
/// away the least work (and frees the fewest blocks, so it may take more than one victim).
/// </summary>
public sealed class LeastComputedFirstPreemptionPolicy : IPreemptionPolicy
{
    private LeastComputedFirstPreemptionPolicy()
    {
    }

    /// <summary>The policy (it has no state).</summary>
    public static LeastComputedFirstPreemptionPolicy Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "least-computed";

    /// <inheritdoc/>
    public int SelectVictim(ReadOnlySpan<Request> candidates)
    {
        int victim = 0;
        for (int i = 1; i < candidates.Length; i++)
        {
            if (candidates[i].NumComputedTokens <= candidates[victim].NumComputedTokens)
                victim = i;
        }
        return victim;
    }
}
