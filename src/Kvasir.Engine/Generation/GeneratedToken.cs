namespace Kvasir.Engine.Generation;

/// <summary>
/// One generated token as streamed to a caller: its id, the text it completed (may be empty while a UTF-8
/// character or a possible stop string is held back), and, on the last one, why generation finished.
/// </summary>
/// <param name="TokenId">The sampled token id.</param>
/// <param name="Text">Text that became final with this token.</param>
/// <param name="Logprob">Log-probability of the token, when logprobs were asked for.</param>
/// <param name="TopLogprobs">The most likely alternatives (id, log-probability), when asked for.</param>
/// <param name="Finish">Set on the last token of the sequence.</param>
public sealed record GeneratedToken(int TokenId, string Text, float? Logprob, IReadOnlyList<(int TokenId, float Logprob)>? TopLogprobs, FinishReason? Finish);
