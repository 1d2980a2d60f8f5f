namespace Kvasir.Engine.Evaluation;

/// <summary>One pass-key document of an evaluation.</summary>
/// <param name="Index">Document number, from 0.</param>
/// <param name="Key">The hidden key.</param>
/// <param name="Answer">The digits the model produced (greedy), or what it produced when no digits.</param>
/// <param name="Correct">Whether <see cref="Answer"/> is exactly the key.</param>
/// <param name="PromptLength">Tokens in the prompt.</param>
/// <param name="KeyDepth">Where the key line starts, as a fraction of the prompt.</param>
public sealed record PassKeyTrial(int Index, string Key, string Answer, bool Correct, int PromptLength, double KeyDepth);
