using LLama;
using LLama.Common;
using LLama.Native;

namespace Kvasir.Engine.Tests.Oracle;

/// <summary>llama.cpp, through LLamaSharp, as the reference for logits, greedy tokens and tokenization.</summary>
public sealed class LlamaCppOracle : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;

    public LlamaCppOracle(string path, int contextSize = 512, int sequences = 4)
    {
        NativeApi.llama_empty_call();
        var p = new ModelParams(path)
        {
            ContextSize = (uint)contextSize,
            BatchSize = (uint)contextSize,
            UBatchSize = (uint)contextSize,
            SeqMax = (uint)sequences,
            GpuLayerCount = 0,
            Threads = 2,
            BatchThreads = 2,
            FlashAttention = false,
        };
        _weights = LLamaWeights.LoadFromFile(p);
        _context = _weights.CreateContext(p);
        VocabSize = _context.Vocab.Count;
    }

    public int VocabSize { get; }

    /// <summary>Last-position logits of each prompt, all decoded in one llama.cpp batch (one sequence id each).</summary>
    public float[][] LastLogits(IReadOnlyList<int[]> prompts)
    {
        _context.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        var logitIndex = new int[prompts.Count];
        for (var s = 0; s < prompts.Count; s++)
        {
            for (var i = 0; i < prompts[s].Length; i++)
            {
                var last = i == prompts[s].Length - 1;
                if (last)
                {
                    logitIndex[s] = batch.TokenCount;
                }

                batch.Add((LLamaToken)prompts[s][i], (LLamaPos)i, (LLamaSeqId)s, last);
            }
        }

        Check(_context.NativeHandle.Decode(batch));
        var result = new float[prompts.Count][];
        for (var s = 0; s < prompts.Count; s++)
        {
            result[s] = _context.NativeHandle.GetLogitsIth(logitIndex[s]).ToArray();
        }

        return result;
    }

    /// <summary>Greedy decoding of one prompt; returns the tokens and llama.cpp's top-two gap at each step.</summary>
    public (int[] Tokens, float[] Gaps) Greedy(int[] prompt, int count)
    {
        _context.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        for (var i = 0; i < prompt.Length; i++)
        {
            batch.Add((LLamaToken)prompt[i], (LLamaPos)i, (LLamaSeqId)0, i == prompt.Length - 1);
        }

        Check(_context.NativeHandle.Decode(batch));
        var tokens = new int[count];
        var gaps = new float[count];
        var index = prompt.Length - 1;
        for (var step = 0; step < count; step++)
        {
            var logits = _context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            var (best, gap) = ArgMaxGap(logits);
            tokens[step] = best;
            gaps[step] = gap;
            batch.Clear();
            batch.Add((LLamaToken)best, (LLamaPos)(prompt.Length + step), (LLamaSeqId)0, true);
            Check(_context.NativeHandle.Decode(batch));
            index++;
        }

        return (tokens, gaps);
    }

    public static (int Best, float Gap) ArgMaxGap(ReadOnlySpan<float> row) => Kvasir.Engine.Generation.Generator.ArgMaxWithGap(row);

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp decode failed: {result}");
        }
    }
}
