using Kvasir.Core.Scheduling;
using Kvasir.Model;

namespace Kvasir.Engine.Runner;

/// <summary>
/// The one place that turns a scheduling decision into tensor inputs: each scheduled request's tokens,
/// positions and block table become a chunk of the flattened <see cref="ForwardBatch"/>.
/// </summary>
public static class BatchBuilder
{
    /// <summary>Fills <paramref name="batch"/> from <paramref name="output"/>; returns how many logits rows it asks for.</summary>
    public static int Build(SchedulerOutput output, int blockSize, ForwardBatch batch)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        foreach (var r in output.ScheduledRequests)
        {
            batch.AddSequence(r.TokenIds.Span, r.FirstPosition, r.KvLenBefore, r.BlockTable, blockSize, r.WantLogits);
        }

        return batch.NumLogits;
    }
}
