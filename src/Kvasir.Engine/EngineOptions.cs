using Kvasir.Kernels.Attention;

namespace Kvasir.Engine;

/// <summary>How the engine is sized and scheduled (the flags of `kvasir serve`).</summary>
public sealed record EngineOptions
{
    /// <summary>
    /// Bytes for the KV arena; 0 means <see cref="KvCacheMemoryFraction"/> of available memory, capped at twice
    /// what <see cref="MaxNumSeqs"/> sequences at full context can use.
    /// </summary>
    public long KvCacheMemoryBytes { get; init; }

    /// <summary>Fraction of available memory for the KV arena when no byte count is given.</summary>
    public double KvCacheMemoryFraction { get; init; } = 0.25;

    /// <summary>Tokens per KV block.</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>Element type of stored K and V.</summary>
    public KvDataType KvDataType { get; init; } = KvDataType.F16;

    /// <summary>Most tokens run in one step (all requests together).</summary>
    public int MaxNumBatchedTokens { get; init; } = 512;

    /// <summary>Most sequences in one step.</summary>
    public int MaxNumSeqs { get; init; } = 64;

    /// <summary>Prefill chunks longer than this count as long prefills (0: MaxNumBatchedTokens / 4 ... see scheduler docs).</summary>
    public int LongPrefillTokenThreshold { get; init; }

    /// <summary>Most long prefills in flight at once.</summary>
    public int MaxLongPartialPrefills { get; init; } = 1;

    /// <summary>Bound of the waiting queue; more requests are rejected (HTTP 429).</summary>
    public int MaxWaitingRequests { get; init; } = 256;

    /// <summary>Admission policy: fcfs, priority or lpm (longest prefix match).</summary>
    public string AdmissionPolicy { get; init; } = "fcfs";

    /// <summary>Preemption victim policy: newest, priority or least-computed.</summary>
    public string PreemptionPolicy { get; init; } = "newest";

    /// <summary>Automatic prefix caching (off only as a baseline).</summary>
    public bool EnablePrefixCaching { get; init; } = true;

    /// <summary>Maximum context per sequence; 0 means the model's context length.</summary>
    public int MaxModelLen { get; init; }
}
