using Kvasir.Model.Tokenizers;

namespace Kvasir.Model.Tests.Tokenizers;

public class TokenizerVocabTests
{
    [Fact]
    public void MetadataRoundTrips()
    {
        foreach (var vocab in (TokenizerVocab[])[TokenizerTestData.Spm, TokenizerTestData.Bpe("qwen2")])
        {
            var metadata = vocab.ToGgufMetadata().ToDictionary(p => p.Key, p => p.Value);
            var back = TokenizerVocab.FromGgufMetadata(metadata);
            Assert.Equal(vocab.Model, back.Model);
            Assert.Equal(vocab.Pre, back.Pre);
            Assert.Equal(vocab.Tokens, back.Tokens);
            Assert.Equal(vocab.Scores, back.Scores);
            Assert.Equal(vocab.TokenTypes, back.TokenTypes);
            Assert.Equal(vocab.Merges, back.Merges);
            Assert.Equal((vocab.BosId, vocab.EosId, vocab.UnkId, vocab.PadId, vocab.EotId), (back.BosId, back.EosId, back.UnkId, back.PadId, back.EotId));
            Assert.Equal((vocab.AddBos, vocab.AddEos, vocab.AddSpacePrefix), (back.AddBos, back.AddEos, back.AddSpacePrefix));
        }
    }

    [Fact]
    public void MetadataHasOnlyGgufValueTypes()
    {
        var metadata = TokenizerTestData.Bpe("llama-bpe").ToGgufMetadata().ToList();
        Assert.All(metadata, p => Assert.StartsWith("tokenizer.ggml.", p.Key, StringComparison.Ordinal));
        Assert.All(metadata, p => Assert.True(p.Value is string or uint or bool or string[] or int[] or float[], p.Key));
        Assert.Equal(metadata.Count, metadata.Select(p => p.Key).Distinct().Count());
        Assert.Contains(metadata, p => p.Key == "tokenizer.ggml.eot_token_id");
    }

    [Fact]
    public void MissingKeysTakeLlamaCppDefaults()
    {
        var spm = TokenizerVocab.FromGgufMetadata(new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = "llama",
            ["tokenizer.ggml.tokens"] = new[] { "<unk>", "<s>", "</s>", "▁a" },
        });
        Assert.Equal((0, 1, 2), (spm.UnkId, spm.BosId, spm.EosId));
        Assert.True(spm.AddBos && spm.AddSpacePrefix && !spm.AddEos);

        var llama3 = TokenizerVocab.FromGgufMetadata(new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = "gpt2",
            ["tokenizer.ggml.pre"] = "llama-bpe",
            ["tokenizer.ggml.tokens"] = new[] { "a", "b" },
            ["tokenizer.ggml.bos_token_id"] = 1u,
        });
        Assert.Equal(1, llama3.BosId);
        Assert.Equal(-1, llama3.EosId); // default 11 is outside the vocabulary
        Assert.True(llama3.AddBos);
        Assert.False(llama3.AddSpacePrefix);

        var qwen = TokenizerVocab.FromGgufMetadata(new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = "gpt2",
            ["tokenizer.ggml.pre"] = "qwen2",
            ["tokenizer.ggml.tokens"] = new[] { "a", "b" },
        });
        Assert.False(qwen.AddBos);

        var error = Assert.Throws<ArgumentException>(() => TokenizerVocab.FromGgufMetadata(new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = "gpt2",
            ["tokenizer.ggml.tokens"] = "not an array",
        }));
        Assert.Contains("tokenizer.ggml.tokens", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadsBackFromAGgufFile()
    {
        var vocab = TokenizerTestData.Bpe("llama-bpe");
        var path = Path.Combine(Path.GetTempPath(), $"kvasir-vocab-{Guid.NewGuid():N}.gguf");
        try
        {
            LlamaVocabOracle.WriteGguf(vocab, path);
            using var file = Kvasir.Model.Gguf.GgufFile.Open(path);
            var back = TokenizerVocab.FromGguf(file);
            Assert.Equal(vocab.Tokens, back.Tokens);
            Assert.Equal(vocab.Merges, back.Merges);
            Assert.Equal(vocab.TokenTypes, back.TokenTypes);
            Assert.Equal(vocab.EotId, back.EotId);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
