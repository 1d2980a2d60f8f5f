using Kvasir.Train.Layers;

namespace Kvasir.Train;

/// <summary>
/// One step's data: sequences laid end to end. Token t predicts Targets[t] with loss weight Weights[t]
/// (0 for the last token of a sequence, larger for the pass-key answer).
/// </summary>
internal sealed class TrainBatch
{
    public List<int> Tokens { get; } = [];      // [n] input token ids

    public List<int> Targets { get; } = [];     // [n] next token ids

    public List<float> Weights { get; } = [];   // [n] loss weights

    public List<int> Positions { get; } = [];   // [n] position within the sequence

    public List<SeqSpan> Seqs { get; } = [];

    public int NumTokens => Tokens.Count;

    /// <summary>Adds a sequence: tokens[0..^1] are inputs, tokens[1..] targets; weights (optional) per target.</summary>
    public void Add(ReadOnlySpan<int> tokens, ReadOnlySpan<float> targetWeights = default)
    {
        var start = Tokens.Count;
        var n = tokens.Length - 1;
        for (var i = 0; i < n; i++)
        {
            Tokens.Add(tokens[i]);
            Targets.Add(tokens[i + 1]);
            Weights.Add(targetWeights.IsEmpty ? 1f : targetWeights[i]);
            Positions.Add(i);
        }

        Seqs.Add(new SeqSpan(start, n));
    }
}
