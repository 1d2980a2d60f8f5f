using Kvasir.Model.Tokenizers;

namespace Kvasir.Model.Tests.Tokenizers;

/// <summary>The word splits of each pre-tokenizer on small inputs, worked out by hand from llama.cpp's rules.</summary>
public class BpePreTokenizerTests
{
    [Theory]
    [InlineData("llama-bpe", "Hello world's 12345  \n\n x", new[] { "Hello", " world", "'s", " ", "123", "45", "  \n\n", " x" })]
    [InlineData("qwen2", "Hello world's 12345  \n\n x", new[] { "Hello", " world", "'s", " ", "1", "2", "3", "4", "5", "  \n\n", " x" })]
    [InlineData("gpt-2", "Hello world's 12345  \n\n x", new[] { "Hello", " world", "'s", " 12345", "  \n\n", " x" })]
    [InlineData("default", "a+b=12345!", new[] { "a", "+", "b", "=", "123", "45", "!" })]
    [InlineData("smollm", "x12 y", new[] { "x", "1", "2", " y" })]
    [InlineData("llama-bpe", "DON'T", new[] { "DON", "'T" })]
    [InlineData("gpt-2", "DON'T", new[] { "DON", "'", "T" })]
    [InlineData("llama-bpe", "a  b", new[] { "a", " ", " b" })]
    [InlineData("llama-bpe", "end  ", new[] { "end", "  " })]
    [InlineData("llama-bpe", "x :-)\n\ny", new[] { "x", " :-)\n\n", "y" })]
    [InlineData("llama-bpe", "日本語 text", new[] { "日本語", " text" })]
    public void SplitsAsLlamaCppDoes(string pre, string text, string[] expected)
    {
        var preTokenizer = BpePreTokenizer.Find(pre)!;
        var codepoints = text.EnumerateRunes().Select(r => r.Value).ToArray();
        var lengths = new List<int>();
        preTokenizer.Split(codepoints, lengths, []);

        var words = new List<string>();
        var start = 0;
        foreach (var length in lengths)
        {
            words.Add(string.Concat(codepoints[start..(start + length)].Select(char.ConvertFromUtf32)));
            start += length;
        }

        Assert.Equal(expected, words);
    }

    [Fact]
    public void KnowsTheCommonNamesAndDefaultsToDefault()
    {
        foreach (var name in (string[])["default", "gpt-2", "llama-bpe", "llama3", "qwen2", "smollm", "starcoder", "dbrx"])
        {
            Assert.Equal(name, BpePreTokenizer.Find(name)!.Name);
        }

        Assert.Equal("default", BpePreTokenizer.Find(null)!.Name);
        Assert.True(BpePreTokenizer.Find("llama-bpe")!.IgnoreMerges);
        Assert.False(BpePreTokenizer.Find("qwen2")!.IgnoreMerges);
        Assert.Null(BpePreTokenizer.Find("klingon"));
    }
}
