using Kvasir.Model.Tokenizers;

namespace Kvasir.Model.Tests.Tokenizers;

public class TokenizerTests
{
    public static TheoryData<string> Kinds => ["spm", "default", "llama-bpe", "qwen2", "gpt-2", "smollm", "spm-variant", "bpe-variant"];

    private static Tokenizer Make(string kind) => Tokenizer.Create(TokenizerTestData.Vocab(kind));

    [Theory]
    [MemberData(nameof(Kinds))]
    public void DecodeOfEncodeIsTheText(string kind)
    {
        var tokenizer = Make(kind);
        foreach (var text in TokenizerTestData.Corpus.Concat(TokenizerTestData.RandomTexts(300, seed: 7)))
        {
            if (kind.StartsWith("spm", StringComparison.Ordinal) && text.Contains('▁'))
            {
                continue; // SentencePiece reads ▁ in the input as a space: not reversible by design
            }

            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecial: true), skipSpecial: true));
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecial: false)));
        }
    }

    [Fact]
    public void SpmFallsBackToBytesForUnknownCharacters()
    {
        var tokenizer = Make("spm");
        var ids = tokenizer.Encode("𝄞", addSpecial: false); // U+1D11E, F0 9D 84 9E, not in the training text
        var texts = ids.Select(tokenizer.TokenText).ToArray();
        Assert.Equal(["▁", "<0xF0>", "<0x9D>", "<0x84>", "<0x9E>"], texts);
        Assert.Equal("𝄞", tokenizer.Decode(ids));
    }

    [Fact]
    public void SpmPutsASpaceBeforeTheTextAndAfterSpecialTokens()
    {
        var tokenizer = Make("spm");
        var ids = tokenizer.Encode("Hello</s>Hello", addSpecial: false, parseSpecial: true);
        var eos = Array.IndexOf(ids, tokenizer.EosId);
        Assert.True(eos > 0);
        Assert.Equal(ids[..eos], ids[(eos + 1)..]);
        Assert.StartsWith("▁", tokenizer.TokenText(ids[0]), StringComparison.Ordinal);
        Assert.Equal("Hello</s>Hello", tokenizer.Decode(ids));
    }

    [Fact]
    public void BpeSpellsUnseenBytesWithByteTokens()
    {
        var tokenizer = Make("llama-bpe");
        var ids = tokenizer.Encode("𝄞", addSpecial: false);
        Assert.Equal(4, ids.Length);
        Assert.Equal([0xF0, 0x9D, 0x84, 0x9E], ids.Select(id => tokenizer.TokenBytes(id)[0]).ToArray());
    }

    [Theory]
    [InlineData("llama-bpe")]
    [InlineData("qwen2")]
    public void SpecialTokenTextsAreTokensOnlyWhenParsingSpecial(string kind)
    {
        var tokenizer = Make(kind);
        Assert.True(tokenizer.TryGetTokenId("<|im_start|>", out var imStart));
        Assert.True(tokenizer.TryGetTokenId("<|im_end|>", out var imEnd));
        const string text = "<|im_start|>user\nHi<|im_end|>";

        var parsed = tokenizer.Encode(text, addSpecial: false, parseSpecial: true);
        Assert.Equal(imStart, parsed[0]);
        Assert.Equal(imEnd, parsed[^1]);
        Assert.Equal(text, tokenizer.Decode(parsed));
        Assert.Equal("user\nHi", tokenizer.Decode(parsed, skipSpecial: true));

        var plain = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(imStart, plain);
        Assert.DoesNotContain(imEnd, plain);
        Assert.Equal(text, tokenizer.Decode(plain));
    }

    [Fact]
    public void BosAndEosFollowTheVocabularyFlags()
    {
        var vocab = TokenizerTestData.Bpe("llama-bpe");
        var both = Tokenizer.Create(vocab with { AddBos = true, AddEos = true });
        var none = Tokenizer.Create(vocab with { AddBos = false, AddEos = false });

        var ids = both.Encode("hello");
        Assert.Equal(both.BosId, ids[0]);
        Assert.Equal(both.EosId, ids[^1]);
        Assert.Equal(ids[1..^1], none.Encode("hello"));
        Assert.Equal(ids[1..^1], both.Encode("hello", addSpecial: false));
        Assert.Equal([both.BosId, both.EosId], both.Encode(string.Empty));
        Assert.Empty(none.Encode(string.Empty));
    }

    [Fact]
    public void EndOfGenerationCoversEosAndChatEndTokens()
    {
        var tokenizer = Make("qwen2");
        Assert.True(tokenizer.TryGetTokenId("<|im_end|>", out var imEnd));
        Assert.True(tokenizer.TryGetTokenId("<|im_start|>", out var imStart));
        Assert.True(tokenizer.IsEndOfGeneration(tokenizer.EosId));
        Assert.True(tokenizer.IsEndOfGeneration(imEnd));
        Assert.False(tokenizer.IsEndOfGeneration(imStart));
        Assert.False(tokenizer.IsEndOfGeneration(tokenizer.BosId));
        Assert.False(tokenizer.IsEndOfGeneration(-1));
        Assert.Equal(imEnd, tokenizer.EotId);
    }

    [Fact]
    public void TokenBytesMapSpacesAndBytes()
    {
        var spm = Make("spm");
        Assert.True(spm.TryGetTokenId("<0x0A>", out var newline));
        Assert.Equal("\n"u8.ToArray(), spm.TokenBytes(newline).ToArray());
        Assert.True(spm.TryGetTokenId("▁the", out var the));
        Assert.Equal(" the"u8.ToArray(), spm.TokenBytes(the).ToArray());
        Assert.Equal("</s>"u8.ToArray(), spm.TokenBytes(spm.EosId).ToArray());
        Assert.True(spm.TokenBytes(spm.EosId, renderSpecial: false).IsEmpty);

        var bpe = Make("gpt-2");
        Assert.True(bpe.TryGetTokenId("Ġthe", out var gThe));
        Assert.Equal(" the"u8.ToArray(), bpe.TokenBytes(gThe).ToArray());
        Assert.Equal("Ġthe", bpe.TokenText(gThe));
    }

    [Fact]
    public void CreateRejectsUnsupportedVocabulariesByName()
    {
        var vocab = TokenizerTestData.Bpe("gpt-2");
        var badPre = Assert.Throws<ArgumentException>(() => Tokenizer.Create(vocab with { Pre = "klingon" }));
        Assert.Contains("'klingon'", badPre.Message, StringComparison.Ordinal);
        Assert.Contains("llama-bpe", badPre.Message, StringComparison.Ordinal);
        Assert.Contains("qwen2", badPre.Message, StringComparison.Ordinal);

        var badModel = Assert.Throws<ArgumentException>(() => Tokenizer.Create(vocab with { Model = "bert" }));
        Assert.Contains("'bert'", badModel.Message, StringComparison.Ordinal);
        Assert.Contains("'llama'", badModel.Message, StringComparison.Ordinal);

        var duplicate = vocab with { Tokens = [.. vocab.Tokens[..^1], vocab.Tokens[0]] };
        Assert.Contains("Duplicate", Assert.Throws<ArgumentException>(() => Tokenizer.Create(duplicate)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Tokenizer.Create(vocab with { Merges = null }));
        Assert.Throws<ArgumentException>(() => Tokenizer.Create(vocab with { BosId = vocab.Count }));
    }

    [Fact]
    public void EncodeIsThreadSafe()
    {
        var tokenizer = Make("llama-bpe");
        var texts = TokenizerTestData.RandomTexts(200, seed: 5).ToArray();
        var expected = texts.Select(t => tokenizer.Encode(t, parseSpecial: true)).ToArray();
        var results = new int[texts.Length * 8][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            results[i] = tokenizer.Encode(texts[i % texts.Length], parseSpecial: true));
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(expected[i % texts.Length], results[i]);
        }
    }

    [Fact]
    public void LoneSurrogatesEncodeAsReplacementCharacter()
    {
        var tokenizer = Make("qwen2");
        Assert.Equal(tokenizer.Encode("a\uFFFDb"), tokenizer.Encode("a\uD800b"));
        Assert.Equal(tokenizer.Encode("\uFFFD"), tokenizer.Encode("\uDC00"));
    }
}
