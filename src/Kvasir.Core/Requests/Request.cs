using System.Runtime.InteropServices;
using Kvasir.Core.KvCache;

namespace Kvasir.Core.Requests;

/// <summary>
/// One generation request as the scheduler and the KV cache manager see it: its token ids (prompt then
/// output) and how many of them have their KV in the cache. A plain mutable class owned by the engine
/// thread; the runner never sees it.
/// </summary>
/// <remarks>
/// <para>Token accounting (vLLM's names):</para>
/// <code>
/// TokenIds:  [ p0 p1 ... p(P-1) | o0 o1 ... o(O-1) ]      NumTokens = P + O, NumPromptTokens = P
///            [&lt;--- NumComputedTokens ---&gt;)                KV written for these; the rest is scheduled next
/// </code>
/// <para>The list only grows (<see cref="AppendOutputToken"/>), which is what lets the KV cache manager keep
/// the chained hashes of the full blocks here and extend them incrementally.</para>
/// </remarks>
public sealed class Request
{
    private readonly List<int> _tokenIds;

    /// <summary>Creates a waiting request.</summary>
    /// <param name="requestId">Unique among live requests (the KV cache manager keys its block tables by it).</param>
    /// <param name="promptTokenIds">The prompt; at least one token.</param>
    /// <param name="cacheKeys">What, besides the tokens, determines the KV (tenant salt, model, ...): part of every block hash.</param>
    /// <param name="priority">Scheduling priority; lower runs first (vLLM's convention).</param>
    /// <param name="arrivalTime">Arrival time in seconds on the owner's clock (wall clock in the engine, virtual in the simulator).</param>
    /// <exception cref="ArgumentException">The prompt is empty.</exception>
    public Request(string requestId, ReadOnlySpan<int> promptTokenIds, PrefixCacheKeys cacheKeys = default, int priority = 0, double arrivalTime = 0)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        if (promptTokenIds.IsEmpty)
            throw new ArgumentException($"Request '{requestId}' has an empty prompt; a request needs at least one token.", nameof(promptTokenIds));
        RequestId = requestId;
        _tokenIds = new List<int>(promptTokenIds.Length + 16);
        _tokenIds.AddRange(promptTokenIds);
        NumPromptTokens = promptTokenIds.Length;
        CacheKeys = cacheKeys;
        Priority = priority;
        ArrivalTime = arrivalTime;
    }

    /// <summary>The request's id.</summary>
    public string RequestId { get; }

    /// <summary>Keys mixed into the request's block hashes: requests share cached KV only when these are equal.</summary>
    public PrefixCacheKeys CacheKeys { get; }

    /// <summary>Scheduling priority; lower runs first.</summary>
    public int Priority { get; }

    /// <summary>Arrival time in seconds on the owner's clock.</summary>
    public double ArrivalTime { get; }

    /// <summary>Where the request is in its life; set by the scheduler.</summary>
    public RequestStatus Status { get; set; } = RequestStatus.Waiting;

    /// <summary>True once the request reached any finished state.</summary>
    public bool IsFinished => Status >= RequestStatus.FinishedStopped;

    /// <summary>Number of prompt tokens.</summary>
    public int NumPromptTokens { get; }

    /// <summary>Number of tokens, prompt plus output.</summary>
    public int NumTokens => _tokenIds.Count;

    /// <summary>Number of generated tokens.</summary>
    public int NumOutputTokens => _tokenIds.Count - NumPromptTokens;

    /// <summary>Tokens whose KV is in the cache (computed or found in the prefix cache); set by the scheduler.</summary>
    public int NumComputedTokens { get; set; }

    /// <summary>Prompt tokens found in the prefix cache when the request was first scheduled; -1 until then. Set by the scheduler (for usage reports).</summary>
    public int NumCachedTokens { get; set; } = -1;

    /// <summary>The most tokens to generate (OpenAI's max_tokens); the scheduler finishes the request with <see cref="RequestStatus.FinishedLength"/> when it is reached. Unbounded by default (the context length still applies).</summary>
    public int MaxTokens { get; init; } = int.MaxValue;

    /// <summary>Generated token ids that end the request (<see cref="RequestStatus.FinishedStopped"/>); the stop token is kept as the last output token. Not modified after the request is added.</summary>
    public int[] StopTokenIds { get; init; } = [];

    /// <summary>The model's end-of-sequence token ids: they end the request unless <see cref="IgnoreEos"/>. Not modified after the request is added.</summary>
    public int[] EosTokenIds { get; init; } = [];

    /// <summary>Keep generating after an end-of-sequence token (benchmarks); <see cref="StopTokenIds"/> still apply.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Parallel sampling (OpenAI's n): the scheduler forks this many sequences from the prompt once it is computed. 1 for a plain request.</summary>
    public int NumSamples { get; init; } = 1;

    /// <summary>The request this one was forked from (parallel sampling), null for a request added by the engine.</summary>
    public string? ParentRequestId { get; init; }

    /// <summary>Index of this sequence in its parallel-sampling group: 0 for the parent, 1..NumSamples-1 for the forked children.</summary>
    public int SampleIndex { get; init; }

    /// <summary>How many times the scheduler preempted this request; set by the scheduler.</summary>
    public int NumPreemptions { get; set; }

    /// <summary>All token ids, prompt then output. Valid until the next <see cref="AppendOutputToken"/>.</summary>
    public ReadOnlySpan<int> TokenIds => CollectionsMarshal.AsSpan(_tokenIds);

    /// <summary>The prompt's token ids.</summary>
    public ReadOnlySpan<int> PromptTokenIds => TokenIds[..NumPromptTokens];

    /// <summary>The generated token ids.</summary>
    public ReadOnlySpan<int> OutputTokenIds => TokenIds[NumPromptTokens..];

    /// <summary>Chained hashes of the request's full blocks, filled lazily by the KV cache manager.</summary>
    internal List<BlockHash> BlockHashes { get; } = [];

    /// <summary>The hasher <see cref="BlockHashes"/> were computed with (they are recomputed if another is used).</summary>
    internal BlockHasher? BlockHashesHasher { get; set; }

    /// <summary>The block size <see cref="BlockHashes"/> were computed for.</summary>
    internal int BlockHashesBlockSize { get; set; }

    /// <summary>Hash of <see cref="CacheKeys"/> under <see cref="BlockHashesHasher"/>.</summary>
    internal BlockHash CacheKeysHash { get; set; }

    /// <summary>Reused result of <c>GetComputedBlocks</c> for this request (no allocation per step).</summary>
    internal KvCacheBlocks? ComputedBlocksScratch { get; set; }

    /// <summary>Reused result of <c>AllocateSlots</c> for this request.</summary>
    internal KvCacheBlocks? NewBlocksScratch { get; set; }

    /// <summary>Appends a generated token.</summary>
    public void AppendOutputToken(int tokenId) => _tokenIds.Add(tokenId);
}
