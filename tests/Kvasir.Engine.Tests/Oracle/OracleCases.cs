using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Making;
using LLama.Native;

namespace Kvasir.Engine.Tests.Oracle;

/// <summary>
/// The models compared against llama.cpp, each with its named tolerance on the relative L2 error of the
/// logits (‖ours − llama.cpp‖ / ‖llama.cpp‖ over the whole vocabulary). The tolerances are what the
/// arithmetic differences explain: llama.cpp rounds activations to F16/BF16 for F16/BF16 weights and
/// quantizes them to Q8_0/Q8_K for quantized weights, while Kvasir's reference path keeps them in F32.
/// </summary>
public static class OracleCases
{
    public static readonly Dictionary<string, float> Tolerance = new()
    {
        ["llama-f32-spm"] = 5e-4f,
        ["llama-f16-spm"] = 1e-3f,
        ["llama-bf16-bpe"] = 5e-3f,
        ["llama-q8_0-spm"] = 2.5e-2f,
        ["qwen2-f32-bpe"] = 5e-4f,
        ["qwen3-f32-bpe"] = 5e-4f,
        ["qwen2-q8_0-bpe"] = 2.5e-2f,
        ["llama-q4_0-cpp"] = 2e-2f,
        ["llama-q4_k_m-cpp"] = 3e-2f,
        ["llama-q6_k-cpp"] = 3e-2f,
        ["llama-q3_k_m-cpp"] = 3e-2f,
        ["llama-q2_k-cpp"] = 3e-2f,
        ["llama-iq4_nl-cpp"] = 3e-2f,
        ["llama-iq4_xs-cpp"] = 3e-2f,
    };

    public static IEnumerable<object[]> All => Tolerance.Keys.Select(k => new object[] { k });

    /// <summary>Path of the model file of a case (generated on first use).</summary>
    public static string Path(string name) => name switch
    {
        "llama-f32-spm" => TestModels.Make(name, TestModels.Tiny, GgmlType.F32, VocabKind.Spm),
        "llama-f16-spm" => TestModels.Make(name, TestModels.Tiny, GgmlType.F16, VocabKind.Spm),
        "llama-bf16-bpe" => TestModels.Make(name, TestModels.Tiny, GgmlType.BF16, VocabKind.Bpe),
        "llama-q8_0-spm" => TestModels.Make(name, TestModels.Tiny, GgmlType.Q8_0, VocabKind.Spm),
        "qwen2-f32-bpe" => TestModels.Make(name, TestModels.Tiny with { Architecture = ModelArchitecture.Qwen2 }, GgmlType.F32, VocabKind.Bpe),
        "qwen3-f32-bpe" => TestModels.Make(name, TestModels.Tiny with { Architecture = ModelArchitecture.Qwen3, HeadDim = 32 }, GgmlType.F32, VocabKind.Bpe),
        "qwen2-q8_0-bpe" => TestModels.Make(name, TestModels.Tiny with { Architecture = ModelArchitecture.Qwen2 }, GgmlType.Q8_0, VocabKind.Bpe),
        "llama-q4_0-cpp" => TestModels.Quantize(name, QuantizableF32, LLamaFtype.MOSTLY_Q4_0),
        "llama-q4_k_m-cpp" => TestModels.Quantize(name, QuantizableF32, LLamaFtype.MOSTLY_Q4_K_M),
        "llama-q6_k-cpp" => TestModels.Quantize(name, QuantizableF32, LLamaFtype.MOSTLY_Q6_K),
        "llama-q3_k_m-cpp" => TestModels.Quantize(name, QuantizableF32, LLamaFtype.MOSTLY_Q3_K_M),
        "llama-q2_k-cpp" => TestModels.Quantize(name, QuantizableF32, LLamaFtype.MOSTLY_Q2_K),
        "llama-iq4_nl-cpp" => TestModels.Quantize(name, QuantizableF32, LLamaFtype.MOSTLY_IQ4_NL),
        "llama-iq4_xs-cpp" => TestModels.Quantize(name, QuantizableF32, LLamaFtype.MOSTLY_IQ4_XS),
        _ => throw new ArgumentException($"unknown oracle case {name}"),
    };

    private static string QuantizableF32 => TestModels.Make("llama-f32-256", TestModels.Quantizable, GgmlType.F32, VocabKind.Spm);

    /// <summary>
    /// llama.cpp's top-two gap counts as clear (the argmax must then agree) when it is over four times the
    /// per-logit error that the case's tolerance allows (tolerance × RMS of the logits).
    /// </summary>
    public static float ClearGap(string name, ReadOnlySpan<float> logits)
    {
        double sum = 0;
        foreach (var v in logits)
        {
            sum += (double)v * v;
        }

        return (float)(4 * Tolerance[name] * Math.Sqrt(sum / logits.Length));
    }

    /// <summary>Relative L2 error of a against the reference b.</summary>
    public static double RelativeL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double diff = 0, norm = 0;
        for (var i = 0; i < b.Length; i++)
        {
            var d = (double)a[i] - b[i];
            diff += d * d;
            norm += (double)b[i] * b[i];
        }

        return Math.Sqrt(diff / Math.Max(norm, 1e-30));
    }

    /// <summary>A deterministic prompt of ordinary (non-control) tokens, starting with BOS.</summary>
    public static int[] Prompt(LanguageModel model, int length, int seed)
    {
        var rng = new NormalRandom((ulong)seed);
        var result = new int[length];
        result[0] = model.Tokenizer.BosId;
        var usable = model.Tokenizer.VocabSize;
        for (var i = 1; i < length; i++)
        {
            int id;
            do
            {
                id = (int)(rng.NextUInt64() % (ulong)usable);
            }
            while (model.Tokenizer.IsSpecial(id));
            result[i] = id;
        }

        return result;
    }
}
