using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Kvasir.Benchmarks;

/// <summary>
/// llama.cpp (through LLamaSharp) loaded once for the benchmark's three measures, each callable again for another
/// round: prefill of the whole prompt, decode of one sequence, decode of <c>batch</c> sequences together.
/// </summary>
internal sealed class LlamaMeasures : IDisposable
{
    private readonly int[] _prompt;
    private readonly int _promptLength;
    private readonly int _decodeContext;
    private readonly int _decodeSteps;
    private readonly int _batch;
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _tokens = new();

    /// <summary>Loads <paramref name="path"/> with a context that fits the prompt and <paramref name="batch"/> decoding sequences.</summary>
    /// <param name="path">The GGUF file.</param>
    /// <param name="prompt">Token ids: the first <paramref name="promptLength"/> are the prefill; sequence s of a decode measure starts from [s, s + decodeContext).</param>
    /// <param name="promptLength">Tokens of the prefill measure.</param>
    /// <param name="decodeContext">Tokens each decoding sequence has in its cache before the timed steps.</param>
    /// <param name="decodeSteps">Timed decode steps.</param>
    /// <param name="batch">Sequences of the batched decode measure.</param>
    /// <param name="threads">llama.cpp's threads.</param>
    public LlamaMeasures(string path, int[] prompt, int promptLength, int decodeContext, int decodeSteps, int batch, int threads)
    {
        _prompt = prompt;
        _promptLength = promptLength;
        _decodeContext = decodeContext;
        _decodeSteps = decodeSteps;
        _batch = batch;
        NativeApi.llama_empty_call();
        var p = new ModelParams(path)
        {
            ContextSize = (uint)Math.Max(promptLength + 8, batch * (decodeContext + decodeSteps + 8)),
            BatchSize = (uint)Math.Max(promptLength, batch * decodeContext),
            UBatchSize = (uint)Math.Max(promptLength, batch * decodeContext),
            SeqMax = (uint)batch,
            GpuLayerCount = 0,
            Threads = threads,
            BatchThreads = threads,
        };
        _weights = LLamaWeights.LoadFromFile(p);
        _context = _weights.CreateContext(p);

        // Warm-up: the first decode pays for page faults on the mapped weights.
        _tokens.Clear();
        for (var i = 0; i < 16; i++)
        {
            _tokens.Add((LLamaToken)prompt[i], (LLamaPos)i, (LLamaSeqId)0, i == 15);
        }

        Decode();
    }

    /// <summary>Tokens/s of measure <paramref name="index"/>: 0 prefill, 1 single decode, 2 batched decode.</summary>
    public double Measure(int index) => index switch
    {
        0 => Prefill(),
        1 => DecodeMany(1),
        _ => DecodeMany(_batch),
    };

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }

    private double Prefill()
    {
        _context.NativeHandle.MemoryClear(true);
        _tokens.Clear();
        for (var i = 0; i < _promptLength; i++)
        {
            _tokens.Add((LLamaToken)_prompt[i], (LLamaPos)i, (LLamaSeqId)0, i == _promptLength - 1);
        }

        var watch = Stopwatch.StartNew();
        Decode();
        return _promptLength / watch.Elapsed.TotalSeconds;
    }

    private double DecodeMany(int sequences)
    {
        _context.NativeHandle.MemoryClear(true);
        _tokens.Clear();
        for (var s = 0; s < sequences; s++)
        {
            for (var i = 0; i < _decodeContext; i++)
            {
                _tokens.Add((LLamaToken)_prompt[s + i], (LLamaPos)i, (LLamaSeqId)s, i == _decodeContext - 1);
            }
        }

        Decode();
        var watch = Stopwatch.StartNew();
        for (var step = 0; step < _decodeSteps; step++)
        {
            _tokens.Clear();
            for (var s = 0; s < sequences; s++)
            {
                _tokens.Add((LLamaToken)_prompt[(s + step) % _prompt.Length], (LLamaPos)(_decodeContext + step), (LLamaSeqId)s, true);
            }

            Decode();
        }

        return sequences * _decodeSteps / watch.Elapsed.TotalSeconds;
    }

    private void Decode()
    {
        if (_context.NativeHandle.Decode(_tokens) != DecodeResult.Ok)
        {
            throw new InvalidOperationException("llama.cpp decode failed");
        }
    }
}
