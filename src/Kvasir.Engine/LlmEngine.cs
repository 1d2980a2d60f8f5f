using System.Diagnostics;
using System.Threading.Channels;
using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;
using Kvasir.Engine.Generation;
using Kvasir.Engine.KvCache;
using Kvasir.Engine.Metrics;
using Kvasir.Engine.Runner;
using Kvasir.Model;
using Kvasir.Model.Sampling;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Engine;

/// <summary>
/// The continuous-batching engine. Each <see cref="Step"/> schedules requests by token budget, runs one
/// batched forward pass over every scheduled token, updates the requests with the sampled tokens, and
/// emits text deltas. Owned by one thread (<see cref="EngineLoop"/>); its counters are safe to read anywhere.
/// </summary>
public sealed partial class LlmEngine : IDisposable
{
    private readonly Scheduler _scheduler;
    private readonly KvCacheManager _kvManager;
    private readonly ModelRunner _runner;
    private readonly Dictionary<string, RequestGroup> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Sequence> _sequences = new(StringComparer.Ordinal);
    private readonly int[] _endOfGenerationIds;
    private readonly string _modelId;
    private int _numFreeBlocks;

    private LlmEngine(LanguageModel model, EngineOptions options, KvCacheStorage storage, Scheduler scheduler, KvCacheManager kvManager, string modelName)
    {
        Model = model;
        Options = options;
        _kvManager = kvManager;
        _scheduler = scheduler;
        _runner = new ModelRunner(model, storage);
        ModelName = modelName;
        _modelId = $"{modelName}:{model.File.FileLength}";
        Metrics = new EngineMetrics(modelName);
        var eog = new List<int>();
        for (var id = 0; id < model.Tokenizer.VocabSize; id++)
        {
            if (model.Tokenizer.IsEndOfGeneration(id))
            {
                eog.Add(id);
            }
        }

        _endOfGenerationIds = [.. eog];
        _numFreeBlocks = kvManager.NumFreeBlocks;
    }

    /// <summary>The model served.</summary>
    public LanguageModel Model { get; }

    /// <summary>The name the model is served under.</summary>
    public string ModelName { get; }

    /// <summary>Sizing and scheduling options.</summary>
    public EngineOptions Options { get; }

    /// <summary>Metrics (thread-safe reads).</summary>
    public EngineMetrics Metrics { get; }

    /// <summary>Blocks in the KV arena.</summary>
    public int NumBlocks => _kvManager.NumBlocks;

    /// <summary>Tokens per block.</summary>
    public int BlockSize => _kvManager.BlockSize;

    /// <summary>Blocks not referenced by any request (cached ones included), as of the last step; thread-safe.</summary>
    public int NumFreeBlocks => Volatile.Read(ref _numFreeBlocks);

    /// <summary>Longest sequence (prompt + output) the engine accepts.</summary>
    public int MaxModelLen => _scheduler.MaxSeqLen;

    /// <summary>True while any request is waiting or running.</summary>
    public bool HasWork => !_scheduler.IsIdle;

    /// <summary>
    /// Builds an engine for a model: sizes the KV arena from the options (bytes, or a fraction of available
    /// memory), and writes the capacity line (blocks, tokens, concurrency at full context) to <paramref name="log"/>.
    /// </summary>
    public static LlmEngine Create(LanguageModel model, EngineOptions options, TextWriter? log = null, string? servedModelName = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var config = model.Config;
        var maxModelLen = options.MaxModelLen > 0 ? Math.Min(options.MaxModelLen, config.ContextLength) : config.ContextLength;
        // Without an explicit size, take the fraction of memory but no more than twice what MaxNumSeqs
        // sequences at full context can hold (the second half keeps finished requests' prefixes cached).
        var bytesPerBlock = KvCacheStorage.BytesPerBlock(config, options.BlockSize, options.KvDataType);
        var usefulBytes = 2L * options.MaxNumSeqs * ((maxModelLen + options.BlockSize - 1) / options.BlockSize) * bytesPerBlock;
        var bytes = options.KvCacheMemoryBytes > 0
            ? options.KvCacheMemoryBytes
            : Math.Min(usefulBytes, (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * options.KvCacheMemoryFraction));
        var numBlocks = KvCacheStorage.BlocksForBudget(config, bytes, options.BlockSize, options.KvDataType);
        if (numBlocks < 1)
        {
            throw new ArgumentException($"--kv-cache-memory {bytes} bytes holds no block: one block of {options.BlockSize} tokens takes {bytesPerBlock} bytes.", nameof(options));
        }

        var storage = new KvCacheStorage(config, numBlocks, options.BlockSize, options.KvDataType);
        var kvManager = new KvCacheManager(numBlocks, options.BlockSize, options.EnablePrefixCaching);
        var schedulerConfig = new SchedulerConfig
        {
            MaxModelLen = maxModelLen,
            MaxNumBatchedTokens = options.MaxNumBatchedTokens,
            MaxNumSeqs = options.MaxNumSeqs,
            LongPrefillTokenThreshold = options.LongPrefillTokenThreshold,
            MaxLongPartialPrefills = options.MaxLongPartialPrefills,
            MaxWaitingRequests = options.MaxWaitingRequests,
            AdmissionPolicy = options.AdmissionPolicy.ToLowerInvariant() switch
            {
                "fcfs" => FcfsAdmissionPolicy.Instance,
                "priority" => PriorityAdmissionPolicy.Instance,
                "lpm" => new LongestPrefixMatchAdmissionPolicy(),
                var p => throw new ArgumentException($"Unknown admission policy '{p}': use fcfs, priority or lpm.", nameof(options)),
            },
            PreemptionPolicy = options.PreemptionPolicy.ToLowerInvariant() switch
            {
                "newest" => NewestFirstPreemptionPolicy.Instance,
                "priority" => LowestPriorityFirstPreemptionPolicy.Instance,
                "least-computed" => LeastComputedFirstPreemptionPolicy.Instance,
                var p => throw new ArgumentException($"Unknown preemption policy '{p}': use newest, priority or least-computed.", nameof(options)),
            },
        };
        if (schedulerConfig.Validate() is { } problem)
        {
            storage.Dispose();
            throw new ArgumentException(problem, nameof(options));
        }

        var engine = new LlmEngine(model, options, storage, new Scheduler(schedulerConfig, kvManager), kvManager,
            servedModelName ?? config.Name ?? Path.GetFileNameWithoutExtension(model.File.FilePath));
        var tokens = (long)numBlocks * options.BlockSize;
        log?.WriteLine($"KV cache: {numBlocks} blocks of {options.BlockSize} tokens = {tokens} tokens ({storage.TotalBytes / 1e6:F1} MB, {options.KvDataType}); " +
            $"max concurrency at {maxModelLen} tokens per sequence: {(double)tokens / maxModelLen:F2}; prefix caching {(options.EnablePrefixCaching ? "on" : "off")}");
        return engine;
    }

    /// <summary>
    /// One engine step: schedule → execute one batched forward pass → update → emit.
    /// </summary>
    public void Step()
    {
        var output = _scheduler.Schedule();
        if (output.ScheduledRequests.Length > 0)
        {
            var result = _runner.Execute(output);
            var update = _scheduler.Update(output, result);
            Emit(result, update);
        }

        PublishMetrics(output);
    }

    /// <summary>Frees the KV arena and the metrics.</summary>
    public void Dispose()
    {
        _runner.Dispose();
        Metrics.Dispose();
    }

    /// <summary>
    /// Adds a request (engine thread only; other threads use <see cref="EngineLoop.SubmitAsync"/>). Rejections
    /// (invalid sampling, prompt too long, KV pool too small, queue full) are results, not exceptions.
    /// </summary>
    public SubmitResult AddRequest(EngineRequest r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.Sampling.Validate(Model.Config.VocabSize) is { } problem)
        {
            return new SubmitResult { Status = SubmitStatus.Invalid, ErrorMessage = problem };
        }

        if (r.N < 1)
        {
            return new SubmitResult { Status = SubmitStatus.Invalid, ErrorMessage = $"n must be at least 1, got {r.N}." };
        }

        if (_groups.ContainsKey(r.RequestId))
        {
            return new SubmitResult { Status = SubmitStatus.Invalid, ErrorMessage = $"A request with id '{r.RequestId}' is already running." };
        }

        var arrival = Stopwatch.GetTimestamp();
        var request = new Request(r.RequestId, r.PromptTokenIds, new PrefixCacheKeys(r.CacheSalt, _modelId), r.Priority, Stopwatch.GetElapsedTime(0, arrival).TotalSeconds)
        {
            MaxTokens = r.Sampling.MaxTokens,
            StopTokenIds = [.. r.Sampling.StopTokenIds],
            EosTokenIds = _endOfGenerationIds,
            IgnoreEos = r.Sampling.IgnoreEos,
            NumSamples = r.N,
        };
        var added = _scheduler.AddRequest(request);
        if (!added.IsAccepted)
        {
            return SubmitResult.From(added);
        }

        _runner.AddSequence(r.RequestId, r.PromptTokenIds, r.Sampling, r.N);
        var channel = Channel.CreateUnbounded<TokenDelta>(new UnboundedChannelOptions { SingleWriter = true });
        var group = new RequestGroup(r, channel.Writer, arrival);
        _groups[r.RequestId] = group;
        AddSequence(group, request, 0);
        return new SubmitResult { Status = SubmitStatus.Accepted, Deltas = channel.Reader };
    }

    /// <summary>Aborts every sequence of a request and frees its blocks (engine thread only).</summary>
    public void Abort(string requestId)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        var baseId = requestId.Split(Scheduler.ChildIdSeparator)[0];
        if (!_groups.TryGetValue(baseId, out var group))
        {
            return;
        }

        foreach (var seq in group.Sequences.ToArray())
        {
            _scheduler.Abort(seq.Request.RequestId);
            Finish(seq, FinishReason.Abort, [], seq.Detokenizer.Flush(), null);
        }

        // Completions not forked yet (n > 1 before the prompt finished) end with the parent.
        if (_groups.Remove(baseId))
        {
            group.CompleteUnforked();
        }

        // The engine may go idle now: publish the freed blocks and the smaller running set at once.
        RefreshGauges();
    }

    internal void AbortAll()
    {
        foreach (var id in _groups.Keys.ToArray())
        {
            Abort(id);
        }
    }

    internal void FailAll(Exception e)
    {
        foreach (var group in _groups.Values)
        {
            group.Output.TryComplete(e);
        }

        _groups.Clear();
        _sequences.Clear();
    }

    private void AddSequence(RequestGroup group, Request request, int index)
    {
        var r = group.Request;
        var seq = new Sequence(group, request, index, new IncrementalDetokenizer(Model.Tokenizer, r.SkipSpecialTokens),
            r.Sampling.StopStrings.Count > 0 ? new StopStringMatcher(r.Sampling.StopStrings) : null);
        group.Sequences.Add(seq);
        _sequences[request.RequestId] = seq;
    }

    private void PublishMetrics(SchedulerOutput output)
    {
        if (output.TotalNumScheduledTokens > 0)
        {
            Metrics.RecordStepTokens(output.TotalNumScheduledTokens);
        }

        RefreshGauges();
    }

    private void RefreshGauges()
    {
        var stats = _kvManager.Stats;
        Metrics.SetGauges(_scheduler.NumRunningRequests, _scheduler.NumWaitingRequests, _scheduler.KvCacheUsage);
        Metrics.SetCounters(stats.PrefixCacheQueries, stats.PrefixCacheHits, _scheduler.NumPreemptions);
        _numFreeBlocks = _kvManager.NumFreeBlocks;
    }
}
