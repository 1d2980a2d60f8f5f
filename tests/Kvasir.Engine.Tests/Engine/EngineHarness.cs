using System.Threading.Channels;
using Kvasir.Engine.Generation;
using Kvasir.Model;
using Kvasir.Model.Sampling;

namespace Kvasir.Engine.Tests.Engine;

/// <summary>Drives an LlmEngine step by step on the test thread and collects each request's output.</summary>
internal sealed class EngineHarness : IDisposable
{
    private readonly Dictionary<string, ChannelReader<TokenDelta>> _readers = [];

    public EngineHarness(LanguageModel model, EngineOptions options)
    {
        Engine = LlmEngine.Create(model, options);
    }

    public LlmEngine Engine { get; }

    public int Steps { get; private set; }

    public SubmitResult Add(string id, int[] prompt, SamplingParams sampling, int n = 1, string? salt = null)
    {
        var r = Engine.AddRequest(new EngineRequest { RequestId = id, PromptTokenIds = prompt, Sampling = sampling, N = n, CacheSalt = salt });
        if (r.IsAccepted)
        {
            _readers[id] = r.Deltas!;
        }

        return r;
    }

    public void RunToEnd(int maxSteps = 10_000)
    {
        while (Engine.HasWork)
        {
            Engine.Step();
            Steps++;
            if (Steps > maxSteps)
            {
                throw new InvalidOperationException($"the engine did not finish within {maxSteps} steps");
            }
        }
    }

    /// <summary>All deltas of a request so far, grouped by completion index.</summary>
    public Dictionary<int, List<TokenDelta>> Drain(string id)
    {
        var result = new Dictionary<int, List<TokenDelta>>();
        while (_readers[id].TryRead(out var d))
        {
            if (!result.TryGetValue(d.Index, out var list))
            {
                result[d.Index] = list = [];
            }

            list.Add(d);
        }

        return result;
    }

    public static int[] Tokens(List<TokenDelta> deltas) => [.. deltas.SelectMany(d => d.TokenIds)];

    public static FinishReason? Finish(List<TokenDelta> deltas) => deltas[^1].Finish;

    public void Dispose() => Engine.Dispose();
}
