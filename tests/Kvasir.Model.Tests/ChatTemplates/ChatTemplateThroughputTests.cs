using System.Diagnostics;
using Kvasir.Model.ChatTemplates;
using Xunit.Abstractions;

namespace Kvasir.Model.Tests.ChatTemplates;

/// <summary>
/// A coarse speed check; the figures go to the test output. A render runs for every request, so it must stay
/// far below a decode step: optimized builds must render the Qwen3-style template with tools and five messages
/// in under a millisecond (they take 15-30 µs once the JIT has tiered up, on a loaded 2-core machine); Debug
/// builds only guard against a collapse.
/// </summary>
public class ChatTemplateThroughputTests(ITestOutputHelper output)
{
    [Fact]
    public void RendersFastEnough()
    {
        var template = ChatTemplate.Parse(ChatTemplateFamilyTests.Qwen3);
        var messages = ChatTemplateFamilyTests.ToolConversation;
        var tools = ChatTemplateFamilyTests.Tools();
        const int renders = 300;
        string prompt = "";
        double best = double.MaxValue;
        // Best of ten batches, so that the JIT's tiering does not count.
        for (int batch = 0; batch < 10; batch++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < renders; i++)
                prompt = template.Render(messages, true, null, null, tools);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMicroseconds / renders);
        }

        var parseStart = Stopwatch.GetTimestamp();
        ChatTemplate.Parse(ChatTemplateFamilyTests.Qwen3);
        double parseMicroseconds = Stopwatch.GetElapsedTime(parseStart).TotalMicroseconds;

        output.WriteLine($"qwen3 template with tools, {messages.Length} messages: {best:F1} µs per render ({prompt.Length} chars), parse {parseMicroseconds:F0} µs");
#if DEBUG
        const double limit = 5_000;
#else
        const double limit = 1_000;
#endif
        Assert.True(best < limit, $"{best:F1} µs per render");
    }
}
