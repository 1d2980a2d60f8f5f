using System.Text;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Model.Tests.Tokenizers;

public class IncrementalDetokenizerTests
{
    [Fact]
    public void HoldsBytesUntilTheCharacterIsComplete()
    {
        var tokenizer = Tokenizer.Create(TokenizerTestData.Spm);
        int Byte(int b) => tokenizer.TryGetTokenId($"<0x{b:X2}>", out var id) ? id : throw new InvalidOperationException();

        var detokenizer = new IncrementalDetokenizer(tokenizer);
        // 🦀 = F0 9F A6 80, 語 = E8 AA 9E
        Assert.Equal(string.Empty, detokenizer.Append(Byte(0xF0)));
        Assert.Equal(string.Empty, detokenizer.Append(Byte(0x9F)));
        Assert.Equal(string.Empty, detokenizer.Append(Byte(0xA6)));
        Assert.Equal("🦀", detokenizer.Append(Byte(0x80)));
        Assert.Equal(string.Empty, detokenizer.Append(Byte(0xE8)));
        Assert.Equal(string.Empty, detokenizer.Append(Byte(0xAA)));
        Assert.Equal("語", detokenizer.Append(Byte(0x9E)));
        Assert.Equal(string.Empty, detokenizer.Flush());
    }

    [Fact]
    public void FlushTurnsAnIncompleteCharacterIntoReplacement()
    {
        var tokenizer = Tokenizer.Create(TokenizerTestData.Spm);
        Assert.True(tokenizer.TryGetTokenId("<0xE8>", out var lead));
        var detokenizer = new IncrementalDetokenizer(tokenizer);
        Assert.Equal(string.Empty, detokenizer.Append(lead));
        Assert.Equal("\uFFFD", detokenizer.Flush());
        Assert.Equal(string.Empty, detokenizer.Flush());
    }

    [Theory]
    [InlineData("spm")]
    [InlineData("llama-bpe")]
    [InlineData("qwen2")]
    public void StreamsEmojiAndCjkSplitAcrossTokensWithoutHalfCharacters(string kind)
    {
        var tokenizer = Tokenizer.Create(kind == "spm" ? TokenizerTestData.Spm : TokenizerTestData.Bpe(kind));
        foreach (var text in (string[])["👨‍👩‍👧‍👦 family", "日本語の文章と中文", "🇳🇴🦀𝄞 mixed 👍🏽!", "plain ascii text"])
        {
            var ids = tokenizer.Encode(text, addSpecial: false);
            var detokenizer = new IncrementalDetokenizer(tokenizer, stripLeadingSpace: kind == "spm");
            var output = new StringBuilder();
            foreach (var id in ids)
            {
                var delta = detokenizer.Append(id);
                Assert.DoesNotContain('\uFFFD', delta);
                Assert.False(delta.Length > 0 && char.IsHighSurrogate(delta[^1]), "a delta ends inside a surrogate pair");
                output.Append(delta);
            }

            output.Append(detokenizer.Flush());
            Assert.Equal(text, output.ToString());
        }
    }

    [Fact]
    public void LeadingSpaceIsKeptUnlessAskedToStrip()
    {
        var tokenizer = Tokenizer.Create(TokenizerTestData.Spm);
        var ids = tokenizer.Encode("Hello there", addSpecial: false);
        string Run(IncrementalDetokenizer d) => string.Concat(ids.Select(d.Append)) + d.Flush();

        Assert.Equal(" Hello there", Run(new IncrementalDetokenizer(tokenizer)));
        Assert.Equal("Hello there", Run(new IncrementalDetokenizer(tokenizer, stripLeadingSpace: true)));
    }

    [Fact]
    public void SkipsControlTokensUnlessAskedToShowThem()
    {
        var tokenizer = Tokenizer.Create(TokenizerTestData.Bpe("qwen2"));
        var ids = tokenizer.Encode("Hi<|im_end|>", addSpecial: false, parseSpecial: true);
        var skipping = new IncrementalDetokenizer(tokenizer);
        Assert.Equal("Hi", string.Concat(ids.Select(skipping.Append)));
        var showing = new IncrementalDetokenizer(tokenizer, skipSpecial: false);
        Assert.Equal("Hi<|im_end|>", string.Concat(ids.Select(showing.Append)));
        showing.Reset();
        Assert.Equal(tokenizer.Decode(ids[..1]), showing.Append(ids[0]));
    }
}
