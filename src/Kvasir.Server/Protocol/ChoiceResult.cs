using System.Text;
using Kvasir.Engine;
using Kvasir.Engine.Generation;

namespace Kvasir.Server.Protocol;

/// <summary>One completion (choice) of a non-streamed request, gathered from its deltas.</summary>
public sealed class ChoiceResult
{
    /// <summary>The generated text.</summary>
    public StringBuilder Text { get; } = new();

    /// <summary>Log-probabilities of the generated tokens, when asked for.</summary>
    public List<TokenLogprob> Logprobs { get; } = [];

    /// <summary>Why it ended (null until its last delta).</summary>
    public FinishReason? Finish { get; set; }

    /// <summary>Adds a delta of this choice.</summary>
    public void Add(TokenDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        Text.Append(delta.Text);
        if (delta.Logprobs is { } lp)
        {
            Logprobs.AddRange(lp);
        }

        Finish = delta.Finish ?? Finish;
    }
}
