using Kvasir.Engine.Generation;
using Xunit.Abstractions;

namespace Kvasir.Engine.Tests.Oracle;

/// <summary>Kvasir's logits against llama.cpp's on the same files, single prompts and batches.</summary>
public sealed class LogitsOracleTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(OracleCases.All), MemberType = typeof(OracleCases))]
    public void LastLogitsMatchLlamaCpp(string name)
    {
        var path = OracleCases.Path(name);
        using var model = TestModels.Open(path);
        using var oracle = new LlamaCppOracle(path);
        using var generator = Generator.ForTokens(model, 1024);
        Assert.Equal(oracle.VocabSize, model.Config.VocabSize);

        var worst = 0.0;
        foreach (var length in new[] { 1, 7, 33, 130 })
        {
            var prompt = OracleCases.Prompt(model, length, seed: length);
            var ours = generator.LastLogits([prompt])[0];
            var theirs = oracle.LastLogits([prompt])[0];
            var error = OracleCases.RelativeL2(ours, theirs);
            worst = Math.Max(worst, error);
            var (theirBest, gap) = LlamaCppOracle.ArgMaxGap(theirs);
            var (ourBest, _) = LlamaCppOracle.ArgMaxGap(ours);
            var clear = OracleCases.ClearGap(name, theirs);
            output.WriteLine($"{name} length {length}: relative L2 {error:E2}, argmax {ourBest}/{theirBest}, llama.cpp gap {gap:F3} (clear above {clear:F3})");
            if (gap > clear)
            {
                Assert.Equal(theirBest, ourBest);
            }
        }

        Assert.True(worst <= OracleCases.Tolerance[name], $"{name}: relative L2 error {worst:E2} is over the tolerance {OracleCases.Tolerance[name]:E2}");
    }

    [Theory]
    [InlineData("llama-f32-spm")]
    [InlineData("qwen2-f32-bpe")]
    [InlineData("qwen3-f32-bpe")]
    [InlineData("llama-q4_k_m-cpp")]
    public void BatchOfDifferentLengthsMatchesLlamaCppAndSinglePrompts(string name)
    {
        var path = OracleCases.Path(name);
        using var model = TestModels.Open(path);
        using var oracle = new LlamaCppOracle(path);
        using var generator = Generator.ForTokens(model, 2048);
        int[][] prompts = [OracleCases.Prompt(model, 5, 1), OracleCases.Prompt(model, 40, 2), OracleCases.Prompt(model, 17, 3), OracleCases.Prompt(model, 1, 4)];

        var batched = generator.LastLogits(prompts);
        var theirs = oracle.LastLogits(prompts);
        for (var s = 0; s < prompts.Length; s++)
        {
            var alone = generator.LastLogits([prompts[s]])[0];
            var error = OracleCases.RelativeL2(batched[s], theirs[s]);
            output.WriteLine($"{name} sequence {s} ({prompts[s].Length} tokens): relative L2 vs llama.cpp {error:E2}");
            Assert.True(error <= OracleCases.Tolerance[name], $"sequence {s}: relative L2 {error:E2} over {OracleCases.Tolerance[name]:E2}");
            // Batching must not change our own result beyond float reassociation.
            Assert.True(OracleCases.RelativeL2(batched[s], alone) <= 1e-5, $"sequence {s}: batched and single-prompt logits differ");
        }
    }
}
