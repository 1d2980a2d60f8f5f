using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

/// <summary>
/// The continuous-batching scheduler (vLLM v1 style): each step it hands out a budget of new tokens to running
/// requests first (decodes and prefill chunks alike), then admits waiting ones in the admission policy's order;
/// when KV memory is short it preempts by recompute. One thread (the engine's) calls it; no locks.
/// </summary>
/// <remarks>
/// <para>The step loop:</para>
/// <code>
/// SchedulerOutput output = scheduler.Schedule();          // who runs, which tokens, which blocks
/// ModelRunnerOutput sampled = runner.Execute(output);       // one forward pass over all of them
/// UpdateResult result = scheduler.Update(output, sampled);  // append tokens, advance, finish, free
/// </code>
/// <para>Between <see cref="Update"/> and the next <see cref="Schedule"/> the engine may add, finish and abort
/// requests. The partial files hold one concern each: admission (Scheduler.Admission.cs), the step
/// (Scheduler.Schedule.cs), preemption (Scheduler.Preemption.cs), update and stops (Scheduler.Update.cs), parallel
/// sampling (Scheduler.ParallelSampling.cs), finishing (Scheduler.Finish.cs) and the counters (Scheduler.Metrics.cs).
/// See docs/scheduler.md.</para>
/// </remarks>
public sealed partial class Scheduler
{
    private readonly KvCacheManager _kv;
    private readonly Dictionary<string, SchedulerEntry> _entries = new(StringComparer.Ordinal);
    private readonly List<SchedulerEntry> _running = [];  // in admission order; every one holds KV blocks
    private readonly List<SchedulerEntry> _waiting = [];  // new and preempted; none holds KV blocks
    private readonly List<string> _finishedIds = [];      // finished since the last Schedule, for the runner
    private readonly int _maxSeqLen;                      // min(MaxModelLen, whole pool in tokens)
    private readonly int _readmissionWatermarkBlocks;
    private long _step;
    private long _nextArrivalSeq;
    private int _numReservedSeqs;                         // children that running parallel-sampling parents will fork
    private SchedulerOutput? _inFlight;                   // scheduled, not yet updated

    /// <summary>Creates a scheduler over a KV cache manager.</summary>
    /// <exception cref="ArgumentException">The config fails <see cref="SchedulerConfig.Validate"/>.</exception>
    public Scheduler(SchedulerConfig config, KvCacheManager kvCache)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(kvCache);
        string? error = config.Validate();
        if (error is not null)
            throw new ArgumentException(error, nameof(config));
        Config = config;
        _kv = kvCache;
        long poolTokens = (long)kvCache.NumBlocks * kvCache.BlockSize;
        _maxSeqLen = (int)Math.Min(config.MaxModelLen, poolTokens);
        _readmissionWatermarkBlocks = (int)Math.Ceiling(config.ReadmissionWatermark * kvCache.NumBlocks);
    }

    /// <summary>The limits and policies.</summary>
    public SchedulerConfig Config { get; }

    /// <summary>The KV cache manager the scheduler allocates from.</summary>
    public KvCacheManager KvCache => _kv;

    /// <summary>
    /// The longest a sequence grows (prompt plus output) before it finishes with <see cref="RequestStatus.FinishedLength"/>:
    /// the context length, or the whole KV pool if that is smaller (a lone request always fits, so none can hang).
    /// </summary>
    public int MaxSeqLen => _maxSeqLen;

    /// <summary>True when no request is waiting or running.</summary>
    public bool IsIdle => _running.Count == 0 && _waiting.Count == 0;

    /// <summary>
    /// Queues a request, or rejects it with a message that names the limit: a prompt longer than the context length,
    /// one whose blocks exceed the whole KV pool, more parallel samples than run at once, or a full waiting queue
    /// (the server maps that to 429). A rejected request is marked <see cref="RequestStatus.FinishedIgnored"/>. Never throws for
    /// these, never queues what could not run.
    /// </summary>
    /// <param name="request">A new request: status Waiting, nothing computed, an id unique among live requests.</param>
    public AddRequestResult AddRequest(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        AddRequestResult result = Validate(request);
        if (!result.IsAccepted)
        {
            bool isLive = _entries.TryGetValue(request.RequestId, out SchedulerEntry? live) && ReferenceEquals(live.Request, request);
            if (!isLive && !request.IsFinished)
                request.Status = RequestStatus.FinishedIgnored;
            NumRejectedRequests++;
            return result;
        }
        var entry = new SchedulerEntry(request, _nextArrivalSeq++, _step);
        _entries.Add(request.RequestId, entry);
        _waiting.Add(entry);
        return result;
    }

    /// <summary>Finds a live (waiting or running) request by id.</summary>
    public bool TryGetRequest(string requestId, out Request request)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        if (_entries.TryGetValue(requestId, out SchedulerEntry? entry) && !entry.Request.IsFinished)
        {
            request = entry.Request;
            return true;
        }
        request = null!;
        return false;
    }

    private AddRequestResult Validate(Request request)
    {
        if (_entries.ContainsKey(request.RequestId))
            return Reject(AddRequestStatus.Invalid, $"Request id '{request.RequestId}' is already in use by a live request; ids must be unique.");
        if (request.RequestId.Contains(ChildIdSeparator, StringComparison.Ordinal))
            return Reject(AddRequestStatus.Invalid, $"Request id '{request.RequestId}' contains '{ChildIdSeparator}', which is reserved for parallel-sampling children ('parent{ChildIdSeparator}index').");
        if (request.Status != RequestStatus.Waiting || request.NumComputedTokens != 0)
            return Reject(AddRequestStatus.Invalid, $"Request '{request.RequestId}' has already been scheduled (status {request.Status}, {request.NumComputedTokens} computed tokens); add a fresh request.");
        if (request.MaxTokens < 1)
            return Reject(AddRequestStatus.Invalid, $"max_tokens must be >= 1, got {request.MaxTokens}.");
        if (request.NumSamples < 1)
            return Reject(AddRequestStatus.Invalid, $"n must be >= 1, got {request.NumSamples}.");
        if (request.NumSamples > 1 && request.NumOutputTokens > 0)
            return Reject(AddRequestStatus.Invalid, $"Request '{request.RequestId}' asks for n = {request.NumSamples} but already has {request.NumOutputTokens} output tokens; only a prompt can be forked.");

        int numTokens = request.NumTokens;
        if (numTokens > Config.MaxModelLen)
        {
            return Reject(
                AddRequestStatus.PromptTooLong,
                $"The prompt has {numTokens} tokens, more than the model's context length of {Config.MaxModelLen} tokens. Shorten the prompt.");
        }
        int blockSize = _kv.BlockSize;
        long numBlocksNeeded = ((long)numTokens + blockSize - 1) / blockSize;
        if (numBlocksNeeded > _kv.NumBlocks)
        {
            return Reject(
                AddRequestStatus.ExceedsKvCapacity,
                $"The prompt needs {numBlocksNeeded} KV blocks ({numTokens} tokens at {blockSize} tokens per block), more than the whole KV cache of {_kv.NumBlocks} blocks ({(long)_kv.NumBlocks * blockSize} tokens). Shorten the prompt or give the KV cache more memory.");
        }
        if (request.NumSamples > Config.MaxNumSeqs)
        {
            return Reject(
                AddRequestStatus.TooManySamples,
                $"n = {request.NumSamples} parallel samples exceed the {Config.MaxNumSeqs} sequences that run at once (MaxNumSeqs). Ask for fewer samples.");
        }
        if (_waiting.Count >= Config.MaxWaitingRequests)
        {
            return Reject(
                AddRequestStatus.QueueFull,
                $"The waiting queue is full ({_waiting.Count} of {Config.MaxWaitingRequests} requests); retry later.");
        }
        return AddRequestResult.Accepted;
    }

    private static AddRequestResult Reject(AddRequestStatus status, string message) => new(status, message);

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;
}
