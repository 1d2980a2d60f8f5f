using Kvasir.Model.Tokenizers;

namespace Kvasir.Model.Tests.Tokenizers;

public class VocabBuilderTests
{
    [Fact]
    public void DefaultCorpusIsAFewKilobytesOfProse()
    {
        Assert.InRange(VocabBuilder.DefaultCorpus.Length, 3000, 20000);
        Assert.Contains("lighthouse", VocabBuilder.DefaultCorpus, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("llama-bpe", 300)]
    [InlineData("qwen2", 1000)]
    [InlineData("default", 5000)]
    public void TrainBpeMakesTheRequestedSizeWithSpecialTokensLast(string pre, int size)
    {
        var vocab = VocabBuilder.TrainBpe(VocabBuilder.DefaultCorpus, size, pre);
        Assert.Equal(size, vocab.Count);
        Assert.Equal("gpt2", vocab.Model);
        Assert.Equal(pre, vocab.Pre);
        Assert.Equal(VocabBuilder.BpeSpecialTokens, vocab.Tokens[^4..]);
        Assert.Equal(size - 4, vocab.BosId);
        Assert.Equal(size - 3, vocab.EosId);
        Assert.Equal(size - 1, vocab.EotId);
        Assert.All(vocab.TokenTypes![^4..], t => Assert.Equal((int)GgmlTokenType.Control, t));
        Assert.Equal("Ā", vocab.Tokens[0]);
        Assert.Equal("Ġ", vocab.Tokens[' ']);
        Assert.Equal("A", vocab.Tokens['A']);
        Assert.NotEmpty(vocab.Merges!);
        Assert.Equal(vocab.Tokens.Length, vocab.Tokens.Distinct().Count());

        // Every merge joins two tokens into a token.
        var set = vocab.Tokens.ToHashSet();
        foreach (var merge in vocab.Merges!)
        {
            var parts = merge.Split(' ');
            Assert.Equal(2, parts.Length);
            Assert.Contains(parts[0], set);
            Assert.Contains(parts[1], set);
            Assert.Contains(parts[0] + parts[1], set);
        }
    }

    [Fact]
    public void TrainingIsDeterministic()
    {
        var a = VocabBuilder.TrainBpe(VocabBuilder.DefaultCorpus, 700);
        var b = VocabBuilder.TrainBpe(VocabBuilder.DefaultCorpus, 700);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Merges, b.Merges);
        var c = VocabBuilder.TrainSpm(VocabBuilder.DefaultCorpus, 700);
        var d = VocabBuilder.TrainSpm(VocabBuilder.DefaultCorpus, 700);
        Assert.Equal(c.Tokens, d.Tokens);
        Assert.Equal(c.Scores, d.Scores);
    }

    [Fact]
    public void TrainBpeLearnsTheMostFrequentPairsFirst()
    {
        var vocab = VocabBuilder.TrainBpe("aaab aaab aaab xy", 262, "gpt-2");
        // Words: "aaab" x1, "Ġaaab" x2, "Ġxy" x1. Pair counts: (a,a) 6, (a,b) 3, (Ġ,a) 2, ...
        Assert.Equal("a a", vocab.Merges![0]);
        Assert.Equal("aa", vocab.Tokens[256]);
        Assert.Equal(262, vocab.Count);
    }

    [Fact]
    public void TrainSpmHasTheSentencePieceLayout()
    {
        var vocab = VocabBuilder.TrainSpm(VocabBuilder.DefaultCorpus, 800);
        Assert.Equal(800, vocab.Count);
        Assert.Equal("llama", vocab.Model);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], vocab.Tokens[..4]);
        Assert.Equal("<0xFF>", vocab.Tokens[258]);
        Assert.Equal((int)GgmlTokenType.Unknown, vocab.TokenTypes![0]);
        Assert.Equal((int)GgmlTokenType.Control, vocab.TokenTypes[1]);
        Assert.Equal((int)GgmlTokenType.Byte, vocab.TokenTypes[100]);
        Assert.Equal((0, 1, 2), (vocab.UnkId, vocab.BosId, vocab.EosId));
        Assert.True(vocab.AddSpacePrefix && vocab.AddBos && !vocab.AddEos);
        Assert.Contains("▁the", vocab.Tokens);
        Assert.Equal(vocab.Tokens.Length, vocab.Tokens.Distinct().Count());

        // Learned pieces score lower the later they were learned.
        for (var i = 260; i < vocab.Count; i++)
        {
            Assert.True(vocab.Scores![i] < vocab.Scores[i - 1]);
        }
    }

    [Fact]
    public void SmallCorporaArePaddedWithReservedControlTokens()
    {
        var vocab = VocabBuilder.TrainBpe("tiny", 300);
        Assert.Equal(300, vocab.Count);
        Assert.Contains("<|reserved_0|>", vocab.Tokens);
        var spm = VocabBuilder.TrainSpm("tiny", 300);
        Assert.Equal(300, spm.Count);
        Assert.Equal((int)GgmlTokenType.Control, spm.TokenTypes![^1]);
    }

    [Fact]
    public void TrainedVocabulariesEncodeTheirCorpusCompactly()
    {
        var bpe = Tokenizer.Create(VocabBuilder.TrainBpe(VocabBuilder.DefaultCorpus, 2000));
        var spm = Tokenizer.Create(VocabBuilder.TrainSpm(VocabBuilder.DefaultCorpus, 2000));
        var bytes = System.Text.Encoding.UTF8.GetByteCount(VocabBuilder.DefaultCorpus);
        Assert.True(bpe.Encode(VocabBuilder.DefaultCorpus).Length < bytes / 3);
        Assert.True(spm.Encode(VocabBuilder.DefaultCorpus).Length < bytes / 3);
    }
}
