using System.Globalization;
using Kvasir.Kernels.Quant;

namespace Kvasir.Train;

/// <summary>Command-line options of kvasir-train (--name value pairs).</summary>
internal sealed record TrainOptions
{
    public string Data { get; init; } = "/tmp/kvasir-train-data";

    public string Work { get; init; } = "/tmp/kvasir-train-work";

    public string? Out { get; init; }

    public ulong Seed { get; init; } = 1234;

    public int Steps { get; init; } = 600;

    public int TokensPerStep { get; init; } = 8192;

    public int TextLength { get; init; } = 256;

    public int MinDocLength { get; init; } = 128;

    public float CurriculumFraction { get; init; } = 0.5f;

    public float PassKeyShare { get; init; } = 0.5f;

    public int CurriculumStart { get; init; }

    public float CopyShare { get; init; }

    public float AnswerWeight { get; init; } = 3f;

    public float RandomCopyShare { get; init; }

    /// <summary>
    /// When positive, random copy documents (training and the copy accuracy) draw uniformly from this many of the
    /// stream's most frequent tokens instead of its unigram distribution: a diagnostic that makes copying easier.
    /// </summary>
    public int CopyAlphabet { get; init; }

    /// <summary>When positive, the run ends (and saves) after this step, short of its schedule's <see cref="Steps"/>.</summary>
    public int StopAfter { get; init; }

    /// <summary>A checkpoint whose parameters start this run (a fresh optimizer and schedule from step 0).</summary>
    public string? InitFrom { get; init; }

    public float LearningRate { get; init; } = 2e-3f;

    public int WarmupSteps { get; init; } = 30;

    public float WeightDecay { get; init; } = 0.1f;

    public float ClipNorm { get; init; } = 1f;

    public int EvalEvery { get; init; } = 25;

    public double SaveMinutes { get; init; } = 5;

    public long VocabSampleBytes { get; init; } = 2_000_000;

    public bool Resume { get; init; }

    public GgmlType MatrixType { get; init; } = GgmlType.F16;

    public TrainConfig Config { get; init; } = new();

    public static TrainOptions Parse(string[] args)
    {
        var o = new TrainOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--resume")
            {
                o = o with { Resume = true };
                continue;
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{name} needs a value.");
            }

            var v = args[++i];
            int I() => int.Parse(v, CultureInfo.InvariantCulture);
            float F() => float.Parse(v, CultureInfo.InvariantCulture);
            o = name switch
            {
                "--data" => o with { Data = v },
                "--work" => o with { Work = v },
                "--out" => o with { Out = v },
                "--seed" => o with { Seed = ulong.Parse(v, CultureInfo.InvariantCulture) },
                "--steps" => o with { Steps = I() },
                "--stop-after" => o with { StopAfter = I() },
                "--tokens-per-step" => o with { TokensPerStep = I() },
                "--text-length" => o with { TextLength = I() },
                "--min-doc" => o with { MinDocLength = I() },
                "--curriculum" => o with { CurriculumFraction = F() },
                "--passkey-share" => o with { PassKeyShare = F() },
                "--curriculum-start" => o with { CurriculumStart = I() },
                "--answer-weight" => o with { AnswerWeight = F() },
                "--copy-share" => o with { CopyShare = F() },
                "--random-copy-share" => o with { RandomCopyShare = F() },
                "--copy-alphabet" => o with { CopyAlphabet = I() },
                "--init-from" => o with { InitFrom = v },
                "--lr" => o with { LearningRate = F() },
                "--warmup" => o with { WarmupSteps = I() },
                "--wd" => o with { WeightDecay = F() },
                "--clip" => o with { ClipNorm = F() },
                "--eval-every" => o with { EvalEvery = I() },
                "--save-minutes" => o with { SaveMinutes = F() },
                "--vocab-sample" => o with { VocabSampleBytes = long.Parse(v, CultureInfo.InvariantCulture) },
                "--type" => o with { MatrixType = Enum.Parse<GgmlType>(v, ignoreCase: true) },
                "--dim" => o with { Config = o.Config with { Dim = I() } },
                "--layers" => o with { Config = o.Config with { Layers = I() } },
                "--heads" => o with { Config = o.Config with { Heads = I() } },
                "--kv-heads" => o with { Config = o.Config with { KvHeads = I() } },
                "--ffn" => o with { Config = o.Config with { FeedForward = I() } },
                "--vocab" => o with { Config = o.Config with { VocabSize = I() } },
                "--ctx" => o with { Config = o.Config with { ContextLength = I() } },
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
        }

        return o;
    }
}
