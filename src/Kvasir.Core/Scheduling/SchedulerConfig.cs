namespace Kvasir.Core.Scheduling;

/// <summary>
/// The scheduler's limits and policies. Names follow vLLM where vLLM has the knob. Validate with
/// <see cref="Validate"/>; the <see cref="Scheduler"/> constructor throws on a config that fails it.
/// </summary>
public sealed record SchedulerConfig
{
    /// <summary>The model's context length in tokens (vLLM's max_model_len): the longest prompt accepted, and the length at which a request finishes.</summary>
    public required int MaxModelLen { get; init; }

    /// <summary>The token budget of one step: new tokens over all scheduled requests (prefill chunks plus decodes). Default 2048.</summary>
    public int MaxNumBatchedTokens { get; init; } = 2048;

    /// <summary>The most sequences that run (hold KV and get tokens) at once; parallel-sampling children count. Default 128.</summary>
    public int MaxNumSeqs { get; init; } = 128;

    /// <summary>
    /// A prefill chunk is capped at this many tokens, and a prefill with more uncomputed tokens than this is "long".
    /// 0 turns the cap off (a prefill takes whatever budget is left). Default 0.
    /// </summary>
    public int LongPrefillTokenThreshold { get; init; }

    /// <summary>The most long prefills (see <see cref="LongPrefillTokenThreshold"/>) given tokens in one step, so that short prompts are not stuck behind long ones. Default 1.</summary>
    public int MaxLongPartialPrefills { get; init; } = 1;

    /// <summary>
    /// The most requests in the waiting queue: <see cref="Scheduler.AddRequest"/> rejects a new request beyond it (HTTP 429).
    /// Preempted requests always rejoin (so the queue may exceed it by at most MaxNumSeqs). Default 1024.
    /// </summary>
    public int MaxWaitingRequests { get; init; } = 1024;

    /// <summary>Orders the waiting queue. Default first come, first served.</summary>
    public IAdmissionPolicy AdmissionPolicy { get; init; } = FcfsAdmissionPolicy.Instance;

    /// <summary>Chooses whom to preempt when KV memory is short. Default newest first.</summary>
    public IPreemptionPolicy PreemptionPolicy { get; init; } = NewestFirstPreemptionPolicy.Instance;

    /// <summary>
    /// Thrash guard: a request resumed after a preemption is not chosen as a victim during this many steps (its
    /// resume step included) while another candidate exists, so that the prefix it just recomputed is not thrown
    /// away again at once. 0 turns it off. Default 8.
    /// </summary>
    public int ResumeGraceSteps { get; init; } = 8;

    /// <summary>
    /// Thrash guard: a preempted request is readmitted only when the free blocks cover all its tokens plus one, and
    /// this fraction of the pool on top (rounded up to whole blocks), so that it is not preempted again by the next
    /// few decode steps of the others. In [0, 1). Default 0.01 (vLLM v0's watermark).
    /// </summary>
    public double ReadmissionWatermark { get; init; } = 0.01;

    /// <summary>Starvation bound: a waiting request overtaken by more than this many later arrivals is admitted next, whatever the admission policy. Default 32.</summary>
    public int StarvationMaxOvertakes { get; init; } = 32;

    /// <summary>Starvation bound: a request waiting for more than this many steps is admitted next, whatever the admission policy. Default 1024.</summary>
    public int StarvationMaxWaitingSteps { get; init; } = 1024;

    /// <summary>Checks every field. Returns null when valid, else a message naming the field, its value and the allowed range.</summary>
    public string? Validate()
    {
        if (MaxModelLen < 1)
            return $"MaxModelLen must be >= 1, got {MaxModelLen}.";
        if (MaxNumBatchedTokens < 1)
            return $"MaxNumBatchedTokens must be >= 1, got {MaxNumBatchedTokens}.";
        if (MaxNumSeqs < 1)
            return $"MaxNumSeqs must be >= 1, got {MaxNumSeqs}.";
        if (LongPrefillTokenThreshold < 0)
            return $"LongPrefillTokenThreshold must be >= 0 (0 = off), got {LongPrefillTokenThreshold}.";
        if (MaxLongPartialPrefills < 1)
            return $"MaxLongPartialPrefills must be >= 1, got {MaxLongPartialPrefills}.";
        if (MaxWaitingRequests < 0)
            return $"MaxWaitingRequests must be >= 0, got {MaxWaitingRequests}.";
        if (AdmissionPolicy is null)
            return "AdmissionPolicy must not be null.";
        if (PreemptionPolicy is null)
            return "PreemptionPolicy must not be null.";
        if (ResumeGraceSteps < 0)
            return $"ResumeGraceSteps must be >= 0 (0 = off), got {ResumeGraceSteps}.";
        if (!(ReadmissionWatermark >= 0 && ReadmissionWatermark < 1))
            return $"ReadmissionWatermark must be in [0, 1), got {ReadmissionWatermark}.";
        if (StarvationMaxOvertakes < 0)
            return $"StarvationMaxOvertakes must be >= 0, got {StarvationMaxOvertakes}.";
        if (StarvationMaxWaitingSteps < 0)
            return $"StarvationMaxWaitingSteps must be >= 0, got {StarvationMaxWaitingSteps}.";
        return null;
    }
}
