namespace Kvasir.Engine.Evaluation;

/// <summary>The outcome of <see cref="PassKeyEval.Run"/>.</summary>
/// <param name="Trials">Every document, in order.</param>
public sealed record PassKeyResult(IReadOnlyList<PassKeyTrial> Trials)
{
    /// <summary>Documents answered exactly.</summary>
    public int Correct => Trials.Count(t => t.Correct);

    /// <summary>Correct / documents.</summary>
    public double Accuracy => Trials.Count == 0 ? 0 : (double)Correct / Trials.Count;
}
