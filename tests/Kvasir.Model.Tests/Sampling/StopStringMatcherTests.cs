using System.Text;
using Kvasir.Model.Sampling;

namespace Kvasir.Model.Tests.Sampling;

public class StopStringMatcherTests
{
    /// <summary>Feeds the pieces, collects what is released (plus Flush when no stop matched).</summary>
    private static (string Output, StopStringMatcher Matcher) Feed(string[] stops, IEnumerable<string> pieces)
    {
        var m = new StopStringMatcher(stops);
        var output = new StringBuilder();
        foreach (string piece in pieces)
            output.Append(m.Append(piece));
        output.Append(m.Flush());
        return (output.ToString(), m);
    }

    /// <summary>The reference: text before the earliest occurrence of any stop string.</summary>
    private static (string Output, int StopPosition) Reference(string[] stops, string text)
    {
        int at = -1;
        foreach (string s in stops)
        {
            int i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (at < 0 || i < at))
                at = i;
        }
        return at < 0 ? (text, -1) : (text[..at], at);
    }

    public static TheoryData<string[], string> Cases => new()
    {
        { ["\nUser:"], "Hello there\nUs and then\nUser: more" },
        { ["\nUser:", "###"], "Answer ## almost ### done\nUser:" },
        { ["abc", "bcd"], "xxabcd" },          // overlapping: the earlier start wins
        { ["bcd", "abc"], "xxabcd" },
        { ["ab", "abc"], "zabc" },             // one stop is a prefix of another
        { ["aab"], "aaaaab tail" },            // self-overlapping prefix
        { ["STOP"], "STOP right at the start" },
        { ["STOP"], "no stop string here, STO" }, // a held-back prefix released by Flush
        { ["é!", "日本"], "café! 日本語" },
        { ["x"], "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EverySplitGivesTheReferenceOutput(string[] stops, string text)
    {
        var (expected, stopAt) = Reference(stops, text);
        // Whole, one character at a time, every 2-way split and every 3-way split.
        List<string[]> splits = [[text], [.. text.Select(c => c.ToString())]];
        for (int i = 0; i <= text.Length; i++)
        {
            splits.Add([text[..i], text[i..]]);
            for (int j = i; j <= text.Length; j++)
                splits.Add([text[..i], text[i..j], text[j..]]);
        }
        foreach (string[] pieces in splits)
        {
            var (output, m) = Feed(stops, pieces);
            string where = string.Join("|", pieces);
            Assert.True(expected == output, $"split {where}: expected '{expected}', got '{output}'");
            Assert.Equal(stopAt >= 0, m.IsStopped);
            Assert.Equal(stopAt, m.StopPosition);
            Assert.Equal(expected.Length, m.EmittedLength);
            Assert.Equal(0, m.HeldBackLength);
        }
    }

    [Fact]
    public void HoldsBackOnlyWhatCouldStartAStopString()
    {
        var m = new StopStringMatcher(["\nUser:"]);
        Assert.Equal("Hello", m.Append("Hello\nUs").ToString());
        Assert.Equal(3, m.HeldBackLength);
        Assert.Equal("\nUs and", m.Append(" and").ToString());
        Assert.Equal(0, m.HeldBackLength);
        Assert.Equal("", m.Append("\nUser").ToString());
        Assert.Equal("", m.Append(": hi").ToString());
        Assert.True(m.IsStopped);
        Assert.Equal(0, m.MatchedStopString);
        Assert.Equal("Hello\nUs and".Length, m.StopPosition);
        Assert.Equal("", m.Append("more").ToString());
        Assert.Equal("", m.Flush().ToString());
    }

    [Fact]
    public void ReportsWhichStopStringMatched()
    {
        var m = new StopStringMatcher(["bcd", "abc"]);
        Assert.Equal("xx", m.Append("xxabcd").ToString());
        Assert.Equal(1, m.MatchedStopString);
        Assert.Equal(2, m.StopPosition);
    }

    [Fact]
    public void NoStopStringsReleasesEverythingAtOnce()
    {
        var m = new StopStringMatcher([]);
        Assert.Equal("abc", m.Append("abc").ToString());
        Assert.Equal(0, m.HeldBackLength);
    }

    [Fact]
    public void ResetStartsOver()
    {
        var m = new StopStringMatcher(["zz"]);
        m.Append("a zz b");
        Assert.True(m.IsStopped);
        m.Reset();
        Assert.False(m.IsStopped);
        Assert.Equal(-1, m.StopPosition);
        Assert.Equal("b", m.Append("bz").ToString());
        Assert.Equal("z", m.Flush().ToString());
    }

    [Fact]
    public void EmptyStopStringIsRejected() =>
        Assert.Throws<ArgumentException>(() => new StopStringMatcher(["ok", ""]));
}
