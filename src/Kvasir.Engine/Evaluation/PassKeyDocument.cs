namespace Kvasir.Engine.Evaluation;

/// <summary>
/// One pass-key retrieval document: BOS, filler text, the line "The pass key is NNNNN. Remember it." at some
/// depth, more filler, then "What is the pass key? The pass key is" and the answer " NNNNN.".
/// </summary>
/// <param name="Tokens">All tokens, answer included.</param>
/// <param name="PromptLength">Tokens before the answer: <c>Tokens[..PromptLength]</c> is what a model is given.</param>
/// <param name="AnswerLength">Tokens of the answer " NNNNN." that follow the prompt.</param>
/// <param name="Key">The five-digit pass key.</param>
/// <param name="KeyTokenIndex">Index of the first token of the key line in <see cref="Tokens"/>.</param>
public sealed record PassKeyDocument(int[] Tokens, int PromptLength, int AnswerLength, string Key, int KeyTokenIndex)
{
    /// <summary>The prompt given to the model.</summary>
    public ReadOnlySpan<int> Prompt => Tokens.AsSpan(0, PromptLength);
}
