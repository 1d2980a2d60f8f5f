using Kvasir.Engine.Evaluation;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Kvasir.Engine.Tests.Evaluation;

/// <summary>
/// llama.cpp's perplexity, computed the way its perplexity tool does (LLamaSharp has no perplexity API): each
/// window of ctx tokens, BOS first, decoded in one batch with logits at every position, log-softmax taken
/// here, the second half scored.
/// </summary>
public sealed class LlamaCppPerplexity : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;

    public LlamaCppPerplexity(string path, int ctx)
    {
        NativeApi.llama_empty_call();
        var p = new ModelParams(path)
        {
            ContextSize = (uint)ctx,
            BatchSize = (uint)ctx,
            UBatchSize = (uint)ctx,
            SeqMax = 1,
            GpuLayerCount = 0,
            Threads = 2,
            BatchThreads = 2,
            FlashAttention = false,
        };
        _weights = LLamaWeights.LoadFromFile(p);
        _context = _weights.CreateContext(p);
    }

    /// <summary>Perplexity of <paramref name="tokens"/> (BOS included) over its first <paramref name="windows"/> windows of <paramref name="ctx"/>.</summary>
    public double Compute(IReadOnlyList<int> tokens, int ctx, int windows, int bos)
    {
        double nll = 0;
        long count = 0;
        var first = ctx / 2;
        for (var w = 0; w < windows; w++)
        {
            _context.NativeHandle.MemoryClear(true);
            var batch = new LLamaBatch();
            for (var i = 0; i < ctx; i++)
            {
                var token = i == 0 ? bos : tokens[(w * ctx) + i];
                batch.Add((LLamaToken)token, (LLamaPos)i, (LLamaSeqId)0, true);
            }

            if (_context.NativeHandle.Decode(batch) != DecodeResult.Ok)
            {
                throw new InvalidOperationException("llama.cpp decode failed.");
            }

            for (var i = first; i < ctx - 1; i++)
            {
                nll -= Perplexity.LogSoftmaxAt(_context.NativeHandle.GetLogitsIth(i), tokens[(w * ctx) + i + 1]);
                count++;
            }
        }

        return Math.Exp(nll / count);
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
