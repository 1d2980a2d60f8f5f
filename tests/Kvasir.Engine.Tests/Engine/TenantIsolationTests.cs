using System.Diagnostics;
using Kvasir.Engine.Tests.Oracle;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Making;
using Kvasir.Model.Sampling;
using Xunit.Abstractions;

namespace Kvasir.Engine.Tests.Engine;

/// <summary>
/// A prompt-caching audit in the manner of "Auditing Prompt Caching in Language Model APIs": tenant A sends
/// a prompt; then the same prompt as tenant B is compared with a fresh prompt (a cross-tenant hit would make
/// B's faster) and with A's repeat (a within-tenant hit must make it faster).
/// </summary>
public sealed class TenantIsolationTests(ITestOutputHelper output)
{
    private static string ModelPath => TestModels.Make("audit-llama", TestModels.Tiny with { ContextLength = 1024 }, GgmlType.F32, VocabKind.Bpe);

    private static readonly SamplingParams OneToken = new() { Temperature = 0, MaxTokens = 1, IgnoreEos = true };

    [Fact]
    public void DifferentTenantsNeverShareKvAndTheSameTenantDoes()
    {
        using var model = LanguageModel.Open(ModelPath);
        using var h = new EngineHarness(model, new EngineOptions { KvCacheMemoryBytes = 4 << 20 });
        var prompt = OracleCases.Prompt(model, 300, 1);
        h.Add("a1", prompt, OneToken, salt: "tenant-a");
        h.RunToEnd();
        h.Add("b1", prompt, OneToken, salt: "tenant-b");
        h.RunToEnd();
        h.Add("a2", prompt, OneToken, salt: "tenant-a");
        h.RunToEnd();
        h.Add("none", prompt, OneToken);
        h.RunToEnd();
        Assert.Equal(0, h.Drain("a1")[0][^1].Usage!.CachedTokens);
        Assert.Equal(0, h.Drain("b1")[0][^1].Usage!.CachedTokens);
        Assert.Equal(288, h.Drain("a2")[0][^1].Usage!.CachedTokens);
        Assert.Equal(0, h.Drain("none")[0][^1].Usage!.CachedTokens);
    }

    [Fact]
    public void TimingAuditFindsNoCrossTenantSignalAndAClearWithinTenantOne()
    {
        using var model = LanguageModel.Open(ModelPath);
        using var h = new EngineHarness(model, new EngineOptions { KvCacheMemoryBytes = 16 << 20, MaxNumBatchedTokens = 1024 });
        double Ttft(string id, int[] prompt, string salt)
        {
            var watch = Stopwatch.StartNew();
            h.Add(id, prompt, OneToken, salt: salt);
            h.RunToEnd();
            return watch.Elapsed.TotalMilliseconds;
        }

        const int trials = 9;
        var crossTenant = new List<double>();
        var fresh = new List<double>();
        var sameTenant = new List<double>();
        for (var t = 0; t < trials; t++)
        {
            var victim = OracleCases.Prompt(model, 800, 10 + t);
            var other = OracleCases.Prompt(model, 800, 1000 + t);
            Ttft($"victim{t}", victim, "tenant-a");
            // Interleave the three measurements so machine noise hits them alike.
            crossTenant.Add(Ttft($"probe{t}", victim, "tenant-b"));
            fresh.Add(Ttft($"fresh{t}", other, "tenant-b"));
            sameTenant.Add(Ttft($"repeat{t}", victim, "tenant-a"));
        }

        static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        var (cross, baseline, same) = (Median(crossTenant), Median(fresh), Median(sameTenant));
        output.WriteLine($"median TTFT: other tenant's prompt {cross:F1} ms, fresh prompt {baseline:F1} ms, own repeat {same:F1} ms");
        Assert.InRange(cross / baseline, 0.6, 1.6);
        Assert.True(same < baseline / 3, $"a within-tenant hit should be clearly faster ({same:F1} vs {baseline:F1} ms)");
    }
}
