using System.Diagnostics;
using System.Globalization;
using Kvasir.Benchmarks;
using Kvasir.Engine.KvCache;
using Kvasir.Kernels.Attention;
using Kvasir.Model;
using Kvasir.Model.Gguf;
using LLama;
using LLama.Native;

// Loads one GGUF file into Kvasir and into llama.cpp (LLamaSharp) and measures, in one run:
// prefill of a long prompt, single-sequence decode, and many sequences decoding together, with the
// ratios and the fraction of the machine's physical limits. Usage:
//   dotnet run -c Release --project benchmarks/Kvasir.Benchmarks -- MODEL.gguf [--prompt 512] [--decode 32] [--decode-context 32] [--batch 16] [--threads N] [--skip-llama] [--float] [--rounds 3] [--weights auto|mapped|resident]
// --weights says where Kvasir keeps the weights (default auto: read into huge pages where the OS has them; llama.cpp
// maps the file); --float runs Kvasir's kernel measurements with float activations instead of the default int8 ones (quantized
// weights); --quantize IN OUT TYPE makes K-quant files with llama.cpp's quantizer.
var inv = CultureInfo.InvariantCulture;
if (args.Length > 0 && args[0] == "--quantize")
{
    // llama.cpp's own quantizer makes the K-quant benchmark files (Kvasir writes F32/F16/BF16/Q8_0/Q4_0 itself):
    //   Kvasir.Benchmarks --quantize s-f16.gguf s-q4_k_m.gguf Q4_K_M
    if (args.Length < 4 || !Enum.TryParse<LLamaFtype>("MOSTLY_" + args[3], ignoreCase: true, out var ftype))
    {
        Console.Error.WriteLine("usage: Kvasir.Benchmarks --quantize IN.gguf OUT.gguf TYPE (Q4_K_M, Q5_K_M, Q6_K, Q8_0, ...)");
        return 2;
    }

    NativeApi.llama_empty_call();
    var ok = LLamaQuantizer.Quantize(args[1], args[2], ftype, nthread: Environment.ProcessorCount);
    Console.WriteLine(ok ? $"wrote {args[2]} ({ftype})" : $"llama.cpp could not quantize {args[1]}");
    return ok ? 0 : 1;
}

if (args.Length == 0 || args[0].StartsWith('-'))
{
    Console.Error.WriteLine("usage: Kvasir.Benchmarks MODEL.gguf [--prompt 512] [--decode 32] [--decode-context 32] [--batch 16] [--threads N] [--skip-llama] [--float] [--rounds 3] [--weights auto|mapped|resident] [--prefix-cache N] [--concurrency 1,4,16]");
    Console.Error.WriteLine("       Kvasir.Benchmarks --quantize IN.gguf OUT.gguf Q4_K_M");
    return 2;
}

var path = args[0];
int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], inv) : fallback;
}

var promptLength = Arg("--prompt", 512);
var decodeSteps = Arg("--decode", 32);
var batch = Arg("--batch", 16);
var threads = Arg("--threads", Environment.ProcessorCount);
var skipLlama = args.Contains("--skip-llama");
var prefixCache = Arg("--prefix-cache", 0);
var rounds = Arg("--rounds", 3);
var concurrencies = Array.IndexOf(args, "--concurrency") is var ci and >= 0 && ci + 1 < args.Length
    ? args[ci + 1].Split(',').Select(v => int.Parse(v, inv)).ToArray()
    : [];
var decodeContext = Arg("--decode-context", 32);
var weightMemory = WeightMemory.Auto;
if (Array.IndexOf(args, "--weights") is var wi and >= 0 && (wi + 1 >= args.Length || !Enum.TryParse(args[wi + 1], ignoreCase: true, out weightMemory)))
{
    Console.Error.WriteLine("--weights takes auto, mapped or resident");
    return 2;
}

using var model = LanguageModel.Open(path, weightMemory);
var config = model.Config;
long weightBytes = model.File.Tensors.Sum(t => t.ByteSize);
long parameters = model.File.Tensors.Sum(t => t.ElementCount);
// The prompt's first promptLength tokens are the prefill; the decode measures start each sequence s from tokens
// [s, s + decodeContext), so the array is long enough for both.
var prompt = new int[Math.Max(promptLength, decodeContext + batch)];
var rng = new Random(1);
for (var i = 0; i < prompt.Length; i++)
{
    prompt[i] = rng.Next(3, Math.Min(config.VocabSize, 255));
}

Console.WriteLine($"model: {path} ({config.ArchitectureName}, {parameters / 1e6:F0} M parameters, {weightBytes / 1e6:F0} MB of weights, types {string.Join("/", model.File.Tensors.Select(t => t.Type).Distinct())})");
Console.WriteLine($"Kvasir's weights: {(model.File.Memory == WeightMemory.Resident ? "read into huge-page memory" : "mapped in place")}");
Console.WriteLine($"threads: {threads}; prompt {promptLength}; decode {decodeSteps} steps after {decodeContext} tokens of context; {batch} sequences together");
var bandwidth = PhysicalLimits.ReadBandwidth(threads);
var fma = PhysicalLimits.FmaPeak(threads);
var int8 = PhysicalLimits.Int8Peak(threads);
Console.WriteLine($"machine: read bandwidth {bandwidth / 1e9:F1} GB/s, FMA peak {fma / 1e9:F0} GFLOP/s (fp32, {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 512 : 256)}-bit), int8 peak {int8 / 1e9:F0} GOP/s ({threads} threads)");

// The limits per token. Every token multiplies the 2-D weights except the token embeddings, which it only looks up
// (unless the output projection is tied to them): decode reads those bytes once per step, and a token's products take
// 2 operations per weight, at the FMA peak for float weights and at the int8 peak for quantized ones (both engines
// multiply those in int8). Attention's own work (a few % at these contexts) is left out of both.
var tiedOutput = model.File.FindTensor("output.weight") is null;
var multiplied = model.File.Tensors.Where(t => t.Shape.Length >= 2 && (tiedOutput || t.Name != "token_embd.weight")).ToArray();
long bytesPerToken = multiplied.Sum(t => t.ByteSize);
double computeSecondsPerToken = multiplied.Sum(t => 2.0 * t.ElementCount / (IsFloat(t.Type) || int8 <= 0 ? fma : int8));

if (prefixCache > 0)
{
    // TTFT of a long prompt, cold and then warm from the prefix cache (issue: warm ≥ 10× faster).
    EngineBenchmarks.PrefixCacheTtft(model, prefixCache, trials: 3);
    return 0;
}

if (concurrencies.Length > 0)
{
    // Total decode throughput through the whole engine versus llama.cpp's batched decode at the same counts, the two
    // in turns for --rounds rounds per count (order flipped each round), as in the main table below.
    Console.WriteLine("| concurrent sequences | Kvasir engine tokens/s | llama.cpp tokens/s | ratio | ratios by round |");
    Console.WriteLine("|---|---|---|---|---|");
    foreach (var n in concurrencies)
    {
        using var measures = skipLlama ? null : new LlamaMeasures(path, prompt, promptLength, decodeContext, decodeSteps, n, threads);
        var ks = new List<double>();
        var ls = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            InTurns(round, () => EngineBenchmarks.DecodeThroughput(model, n, decodeContext, decodeSteps), ks, measures is null ? null : () => measures.Measure(2), ls);
        }

        var ratios = ks.Zip(ls, (a, b) => a / b).ToArray();
        Console.WriteLine(string.Create(inv,
            $"| {n} | {Median(ks):F1} | {(measures is null ? "-" : Median(ls).ToString("F1", inv))} | {(measures is null ? "-" : Median(ratios).ToString("F2", inv) + "×")} | {string.Join(", ", ratios.Select(r => r.ToString("F2", inv)))} |"));
    }

    return 0;
}

// The two engines run in turns, measure by measure, for --rounds rounds (the order flips every round), so that
// both see the same machine: memory bandwidth here drifts by ±15 % over minutes, which one engine after the other
// turned into ratio noise. Each figure is the median over the rounds; the ratio is the median of the rounds' ratios.
var kvasir = KvasirMeasures();
using var llama = skipLlama ? null : new LlamaMeasures(path, prompt, promptLength, decodeContext, decodeSteps, batch, threads);
var names = new[] { $"prefill {promptLength}", "decode 1 sequence", $"decode {batch} sequences (total)" };
var ours = names.Select(_ => new List<double>()).ToArray();
var theirs = names.Select(_ => new List<double>()).ToArray();
for (var round = 0; round < rounds; round++)
{
    for (var m = 0; m < names.Length; m++)
    {
        var measure = m;
        InTurns(round, kvasir[m], ours[m], llama is null ? null : () => llama.Measure(measure), theirs[m]);
    }

    var line = $"round {round + 1}: kvasir {string.Join(" / ", ours.Select(o => o[^1].ToString("F1", inv)))}";
    if (llama is not null)
    {
        line += $"; llama.cpp {string.Join(" / ", theirs.Select(t => t[^1].ToString("F1", inv)))}";
    }

    Console.Error.WriteLine(line + " t/s");
}

Console.WriteLine();
Console.WriteLine($"| measure | Kvasir tokens/s | llama.cpp tokens/s | ratio | Kvasir fraction of limit | ratios by round |");
Console.WriteLine("|---|---|---|---|---|---|");
var computeLimit = multiplied.All(t => IsFloat(t.Type)) ? "of FMA peak" : multiplied.Any(t => IsFloat(t.Type)) ? "of FMA/int8 peaks" : "of int8 peak";
var limits = new[] { computeLimit, "of bandwidth", computeLimit };
for (var m = 0; m < names.Length; m++)
{
    var k = Median(ours[m]);
    var fraction = m == 1 ? k * bytesPerToken / bandwidth : k * computeSecondsPerToken;
    var ratios = llama is null ? [] : ours[m].Zip(theirs[m], (a, b) => a / b).ToArray();
    Console.WriteLine(string.Create(inv,
        $"| {names[m]} | {k:F1} | {(llama is null ? "-" : Median(theirs[m]).ToString("F1", inv))} | {(llama is null ? "-" : Median(ratios).ToString("F2", inv) + "×")} | {fraction:P0} {limits[m]} | {string.Join(", ", ratios.Select(r => r.ToString("F2", inv)))} |"));
}

return 0;

// One measure of each engine in round `round`: Kvasir first in even rounds, llama.cpp first in odd ones (so that
// neither always runs on the machine the other just warmed or heated).
static void InTurns(int round, Func<double> kvasirMeasure, List<double> kvasirResults, Func<double>? llamaMeasure, List<double> llamaResults)
{
    if (round % 2 == 1 && llamaMeasure is not null)
    {
        llamaResults.Add(llamaMeasure());
    }

    kvasirResults.Add(kvasirMeasure());
    if (round % 2 == 0 && llamaMeasure is not null)
    {
        llamaResults.Add(llamaMeasure());
    }
}

static double Median(IReadOnlyList<double> values)
{
    var sorted = values.OrderBy(v => v).ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static bool IsFloat(Kvasir.Kernels.Quant.GgmlType type) => type is Kvasir.Kernels.Quant.GgmlType.F32 or Kvasir.Kernels.Quant.GgmlType.F16 or Kvasir.Kernels.Quant.GgmlType.BF16;

// Kvasir's three measures (prefill, single decode, batched decode), each callable again for another round.
Func<double>[] KvasirMeasures()
{
    var transformer = args.Contains("--float") ? model.CreateTransformer(Kvasir.Kernels.MatMulActivations.Float) : model.CreateTransformer();
    var blockSize = 16;
    var perSeqBlocks = (Math.Max(promptLength, decodeContext + decodeSteps + 1) + blockSize - 1) / blockSize;
    var kv = new KvCacheStorage(config, perSeqBlocks * Math.Max(batch, 1), blockSize, KvDataType.F16);
    var fb = new ForwardBatch(Math.Max(promptLength, batch * decodeContext), batch);
    var logits = new float[batch * config.VocabSize];
    int[] Table(int s) => Enumerable.Range(s * perSeqBlocks, perSeqBlocks).ToArray();

    // Warm-up (JIT, page faults on the mapped weights).
    fb.Clear();
    fb.AddSequence(prompt.AsSpan(0, 16), 0, 0, Table(0), blockSize, true);
    transformer.Forward(fb, kv.Layers, logits);

    double Prefill()
    {
        fb.Clear();
        fb.AddSequence(prompt.AsSpan(0, promptLength), 0, 0, Table(0), blockSize, true);
        var watch = Stopwatch.StartNew();
        transformer.Forward(fb, kv.Layers, logits);
        return promptLength / watch.Elapsed.TotalSeconds;
    }

    double Decode(int sequences)
    {
        var tables = Enumerable.Range(0, sequences).Select(Table).ToArray();
        fb.Clear();
        for (var s = 0; s < sequences; s++)
        {
            fb.AddSequence(prompt.AsSpan(s, decodeContext), 0, 0, tables[s], blockSize, true);
        }

        transformer.Forward(fb, kv.Layers, logits);
        var w = Stopwatch.StartNew();
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var step = 0; step < decodeSteps; step++)
        {
            fb.Clear();
            for (var s = 0; s < sequences; s++)
            {
                var position = decodeContext + step;
                fb.AddSequence(prompt.AsSpan((s + step) % prompt.Length, 1), position, position, tables[s], blockSize, true);
            }

            transformer.Forward(fb, kv.Layers, logits);
        }

        var rate = sequences * decodeSteps / w.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(inv, $"kvasir: {(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / decodeSteps:N0} bytes allocated per forward step on the calling thread ({sequences} sequences)"));
        return rate;
    }

    return [Prefill, () => Decode(1), () => Decode(batch)];
}
