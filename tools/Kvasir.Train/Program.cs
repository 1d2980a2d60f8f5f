using System.Diagnostics;
using System.Globalization;
using Kvasir.Engine.Evaluation;
using Kvasir.Model.Gguf;
using Kvasir.Model.Tokenizers;
using Kvasir.Train;

// kvasir-train: trains the bundled default model. See models/README.md for the command that made it.
//   dotnet run --project tools/Kvasir.Train -c Release -- --data DIR --work DIR [options]
if (args.Length > 0 && args[0] == "bench")
{
    Bench.Run();
    return;
}

var options = TrainOptions.Parse(args);
Directory.CreateDirectory(options.Work);
var log = new StreamWriter(Path.Combine(options.Work, "train.log"), append: true) { AutoFlush = true };
void Log(string line)
{
    var stamped = $"{DateTime.UtcNow:HH:mm:ss} {line}";
    Console.WriteLine(stamped);
    log.WriteLine(stamped);
}

Log($"args: {string.Join(' ', args)}");
var trainLines = ReadLines(Path.Combine(options.Data, "train.txt"));
var heldLines = ReadLines(Path.Combine(options.Data, "heldout.txt"));
var vocab = LoadOrTrainVocab(options, trainLines, Log);
var tokenizer = Tokenizer.Create(vocab);
var sw = Stopwatch.StartNew();
var trainEncoded = PassKeyDocumentBuilder.EncodeLines(tokenizer, trainLines);
var heldEncoded = PassKeyDocumentBuilder.EncodeLines(tokenizer, heldLines);
var trainStream = trainEncoded.SelectMany(x => x).ToArray();
var heldStream = heldEncoded.SelectMany(x => x).ToArray();
Log($"tokenized in {sw.Elapsed.TotalSeconds:F1}s: train {trainStream.Length} tokens ({trainLines.Length} lines), held-out {heldStream.Length} tokens");

var config = options.Config with { VocabSize = vocab.Tokens.Length };
if (config.Validate() is { } problem)
{
    throw new ArgumentException(problem);
}

var parameters = new ParameterSet(config);
parameters.Initialize(options.Seed);
Log($"model: dim {config.Dim}, layers {config.Layers}, heads {config.Heads}/{config.KvHeads}, ffn {config.FeedForward}, vocab {config.VocabSize}, ctx {config.ContextLength}, params {parameters.Count}");
var optimizer = new AdamW(parameters, weightDecay: options.WeightDecay);
var checkpointPath = Path.Combine(options.Work, "checkpoint.bin");
if (options.Resume && File.Exists(checkpointPath))
{
    Checkpoint.Load(checkpointPath, parameters, optimizer);
    Log($"resumed at step {optimizer.Step}");
}
else if (options.InitFrom is { } init)
{
    Checkpoint.Load(init, parameters, new AdamW(parameters));
    Log($"started from the parameters of {init}");
}

var trainDocs = new PassKeyDocumentBuilder(tokenizer, trainEncoded);
var heldDocs = new PassKeyDocumentBuilder(tokenizer, heldEncoded);
var copyAlphabet = options.CopyAlphabet > 0 ? DataMixer.MostFrequent(trainStream, tokenizer.BosId, options.CopyAlphabet) : null;
var mixer = new DataMixer(trainStream, trainDocs, config.ContextLength, tokenizer.BosId, options.Seed)
{
    CopySource = copyAlphabet,
    TextLength = options.TextLength,
    PassKeyShare = options.PassKeyShare,
    MinDocLength = options.MinDocLength,
    CurriculumFraction = options.CurriculumFraction,
    CurriculumStart = options.CurriculumStart,
    AnswerWeight = options.AnswerWeight,
    CopyShare = options.CopyShare,
    RandomCopyShare = options.RandomCopyShare,
};
var probCapacity = (long)options.TokensPerStep * config.ContextLength * config.Heads;
var trainer = new LlamaTrainer(parameters, options.TokensPerStep + 64, probCapacity);
var schedule = new CosineSchedule(options.LearningRate, options.WarmupSteps, options.Steps);
var evaluator = new HeldOutEvaluator(trainer, heldStream, heldDocs, tokenizer.BosId, config.ContextLength, options.TextLength, copyAlphabet);
var curve = new StreamWriter(Path.Combine(options.Work, "curve.tsv"), append: true) { AutoFlush = true };
var lastSave = Stopwatch.StartNew();
var run = Stopwatch.StartNew();
double lossSum = 0;
var lossCount = 0;
long tokensSeen = 0;
for (var step = optimizer.Step; step < options.Steps; step++)
{
    var batch = mixer.Batch(step, options.Steps, options.TokensPerStep);
    var stepTimer = Stopwatch.StartNew();
    var loss = trainer.ForwardBackward(batch);
    var lr = schedule.At(step);
    var norm = optimizer.Update(trainer.Grads, lr, options.ClipNorm);
    tokensSeen += batch.NumTokens;
    lossSum += loss;
    lossCount++;
    Log($"step {step + 1}/{options.Steps} loss {loss:F4} lr {lr:E2} norm {norm:F3} tokens {batch.NumTokens} seqs {batch.Seqs.Count} {batch.NumTokens / stepTimer.Elapsed.TotalSeconds:F0} tok/s");
    if (double.IsNaN(loss))
    {
        throw new InvalidOperationException("The loss is NaN.");
    }

    // --stop-after N ends the run after step N of a longer schedule (saving there), as the bundled model's phases did.
    var last = step + 1 == options.Steps || step + 1 == options.StopAfter;
    if ((step + 1) % options.EvalEvery == 0 || last)
    {
        var e = evaluator.Run(options.Seed);
        Log($"eval step {step + 1}: train loss {lossSum / lossCount:F4}, held-out loss {e.Loss:F4} (ppl {Math.Exp(e.Loss):F1}), copy {e.Copy:P0}, pass-key {e.PassKeyShort:P0} at {HeldOutEvaluator.ShortLength} / {e.PassKey:P0} at {config.ContextLength} (teacher-forced, {HeldOutEvaluator.PassKeyDocs} docs each)");
        curve.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step + 1}\t{tokensSeen}\t{run.Elapsed.TotalMinutes:F1}\t{lossSum / lossCount:F4}\t{e.Loss:F4}\t{e.PassKey:F3}\t{e.PassKeyShort:F3}\t{e.Copy:F3}"));
        lossSum = 0;
        lossCount = 0;
    }

    if (lastSave.Elapsed.TotalMinutes >= options.SaveMinutes || last)
    {
        Checkpoint.Save(checkpointPath, parameters, optimizer);
        Export(Path.Combine(options.Work, "model.gguf"));
        lastSave.Restart();
        Log($"saved step {step + 1}");
    }

    if (last)
    {
        break;
    }
}

if (options.Out is { } outPath)
{
    Export(outPath);
    Log($"wrote {outPath}");
}

void Export(string path) =>
    GgufExport.Write(path, parameters, vocab, options.MatrixType, "kvasir-default", [
        new("kvasir.train.seed", (uint)options.Seed),
        new("kvasir.train.steps", (uint)optimizer.Step),
    ]);

static string[] ReadLines(string path) =>
    File.Exists(path) ? File.ReadAllLines(path) : throw new FileNotFoundException($"{path} is missing: run tools/Kvasir.Train/prepare-data.sh first.", path);

static TokenizerVocab LoadOrTrainVocab(TrainOptions options, string[] lines, Action<string> log)
{
    var path = Path.Combine(options.Work, "vocab.gguf");
    if (File.Exists(path))
    {
        using var file = GgufFile.Open(path);
        return TokenizerVocab.FromGguf(file);
    }

    // BPE merges are learned from every k-th line, about VocabSampleBytes of text.
    var total = lines.Sum(l => (long)l.Length + 1);
    var every = Math.Max(1, (int)(total / options.VocabSampleBytes));
    var sample = string.Join('\n', lines.Where((_, i) => i % every == 0));
    var sw = Stopwatch.StartNew();
    var vocab = VocabBuilder.TrainBpe(sample, options.Config.VocabSize, "llama-bpe");
    log($"trained a {vocab.Tokens.Length}-token BPE vocabulary on {sample.Length} chars (every {every}th line) in {sw.Elapsed.TotalSeconds:F1}s");
    var w = new GgufWriter();
    foreach (var (key, value) in vocab.ToGgufMetadata())
    {
        w.Add(key, value);
    }

    w.Write(path);
    return vocab;
}
