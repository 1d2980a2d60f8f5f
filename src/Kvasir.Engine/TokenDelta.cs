using Kvasir.Engine.Generation;

namespace Kvasir.Engine;

/// <summary>
/// What one engine step produced for one sequence of a request: new tokens, the text they completed
/// (stop strings are never part of it), optional logprobs, and on the last delta the finish reason and usage.
/// </summary>
/// <param name="Index">Which completion of the request (0..n-1).</param>
/// <param name="TokenIds">Tokens sampled this step for this sequence (empty on a delta that only finishes).</param>
/// <param name="Text">Text that became final.</param>
/// <param name="Logprobs">Per token, when the request asked for logprobs; else null.</param>
/// <param name="Finish">Set on the sequence's last delta.</param>
/// <param name="Usage">Set on the sequence's last delta.</param>
public sealed record TokenDelta(int Index, int[] TokenIds, string Text, TokenLogprob[]? Logprobs, FinishReason? Finish, RequestUsage? Usage);

/// <summary>A sampled token's log-probability and the most likely alternatives.</summary>
/// <param name="TokenId">The sampled token.</param>
/// <param name="Logprob">Its log-probability under the model.</param>
/// <param name="Top">The top alternatives (token id, log-probability), most likely first.</param>
public sealed record TokenLogprob(int TokenId, float Logprob, (int TokenId, float Logprob)[] Top);

/// <summary>Token counts of a finished sequence, as OpenAI's usage reports them.</summary>
/// <param name="PromptTokens">Prompt tokens.</param>
/// <param name="CompletionTokens">Generated tokens of this sequence.</param>
/// <param name="CachedTokens">Prompt tokens whose KV came from the prefix cache.</param>
public sealed record RequestUsage(int PromptTokens, int CompletionTokens, int CachedTokens);
