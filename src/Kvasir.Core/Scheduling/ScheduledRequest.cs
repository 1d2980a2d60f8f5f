namespace Kvasir.Core.Scheduling;

/// <summary>
/// One request's share of a step, as the runner sees it: plain data, no <c>Request</c> object.
/// </summary>
/// <remarks>
/// <code>
/// token index in the sequence:  0 ............ FirstPosition ...... FirstPosition + NumTokens - 1
///                               [ KV already stored ][ TokenIds: computed this step ]
/// stored KV slots:              [0, KvLenBefore)     [KvLenBefore, KvLenBefore + NumTokens)
/// slot of the j-th stored token = BlockTable[j / BlockSize] * BlockSize + j % BlockSize
/// </code>
/// Position and stored KV length are equal until KV compression drops slots; they are kept apart from the start.
/// </remarks>
/// <param name="RequestId">The request's id.</param>
/// <param name="TokenIds">The token ids to run this step (a slice of one buffer shared by the step's requests).</param>
/// <param name="FirstPosition">Position of the first of <paramref name="TokenIds"/> (drives RoPE).</param>
/// <param name="KvLenBefore">KV slots the request's block table holds before this step.</param>
/// <param name="BlockTable">The request's block ids, covering <paramref name="KvLenBefore"/> + NumTokens slots. Never modified after it is handed out: a changed table is a new array.</param>
/// <param name="WantLogits">True when the chunk reaches the end of the request's known tokens: the last token's logits are sampled. False for a prefill chunk that leaves tokens for later steps.</param>
/// <param name="NumSamples">How many tokens to sample from those logits: 0 without logits, 1 normally, n on the step that completes the prompt of a parallel-sampling request (one per sequence of the group: index 0 for the parent, i for child i).</param>
public readonly record struct ScheduledRequest(
    string RequestId,
    ReadOnlyMemory<int> TokenIds,
    int FirstPosition,
    int KvLenBefore,
    int[] BlockTable,
    bool WantLogits,
    int NumSamples)
{
    /// <summary>Number of tokens to run this step.</summary>
    public int NumTokens => TokenIds.Length;
}
