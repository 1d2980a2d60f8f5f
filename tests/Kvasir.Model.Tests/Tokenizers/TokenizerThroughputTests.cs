using System.Diagnostics;
using System.Text;
using Kvasir.Model.Tokenizers;
using Xunit.Abstractions;

namespace Kvasir.Model.Tests.Tokenizers;

/// <summary>
/// A coarse speed check; the figures go to the test output. Optimized builds must encode at least 1 MB/s
/// (they do several); Debug builds, whose code the JIT does not optimize, only guard against a collapse.
/// </summary>
public class TokenizerThroughputTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("spm")]
    [InlineData("llama-bpe")]
    [InlineData("qwen2")]
    [InlineData("default")]
    public void EncodesAndDecodesALargeText_ReportingThroughput(string kind)
    {
        var tokenizer = Tokenizer.Create(TokenizerTestData.Vocab(kind));
        var text = string.Concat(Enumerable.Repeat(TokenizerTestData.TrainingText + "\n" + TokenizerTestData.CSharpSnippet, 40));
        var bytes = Encoding.UTF8.GetByteCount(text);
        // Best of three, so that the JIT's tiering does not count.
        var tokens = Array.Empty<int>();
        var encodeSeconds = double.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var start = Stopwatch.GetTimestamp();
            tokens = tokenizer.Encode(text);
            encodeSeconds = Math.Min(encodeSeconds, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        var watch = Stopwatch.StartNew();
        var decoded = tokenizer.Decode(tokens, skipSpecial: true);
        var decodeSeconds = watch.Elapsed.TotalSeconds;

        Assert.Equal(text, decoded);
        var encodeRate = bytes / encodeSeconds / 1e6;
        // The rate is reported, not asserted: a test never fails because the machine was slow.
        output.WriteLine($"{kind}: {bytes / 1e6:F2} MB, {tokens.Length} tokens, encode {encodeRate:F1} MB/s, decode {bytes / decodeSeconds / 1e6:F1} MB/s");
    }
}
