using System.Collections.Concurrent;
using System.Text;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Model.Tests.Tokenizers;

/// <summary>Our tokenizers against llama.cpp on the same vocabularies: ids, pieces, end-of-generation, decoding.</summary>
public class TokenizerOracleTests
{
    private static readonly ConcurrentDictionary<string, Lazy<(Tokenizer Ours, LlamaVocabOracle Oracle)>> Loaded = new();

    public static TheoryData<string> Kinds => ["spm", "default", "llama-bpe", "qwen2", "gpt-2", "smollm", "spm-variant", "bpe-variant"];

    // Vocabularies whose llama.cpp detokenizer does no clean-up of spaces (clean_spaces = false).
    public static TheoryData<string> KindsWithoutCleanup => ["spm", "qwen2", "smollm", "spm-variant", "bpe-variant"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EncodeMatchesLlamaCpp(string kind)
    {
        var (ours, oracle) = Get(kind);
        var failures = new List<string>();
        var compared = 0;
        foreach (var text in TokenizerTestData.Corpus.Concat(TokenizerTestData.RandomTexts(1500, seed: 1234)))
        {
            foreach (var addSpecial in (ReadOnlySpan<bool>)[true, false])
            {
                foreach (var parseSpecial in (ReadOnlySpan<bool>)[false, true])
                {
                    var expected = oracle.Tokenize(text, addSpecial, parseSpecial);
                    var actual = ours.Encode(text, addSpecial, parseSpecial);
                    compared++;
                    if (!expected.AsSpan().SequenceEqual(actual))
                    {
                        failures.Add($"'{TokenizerTestData.Show(text)}' addSpecial={addSpecial} parseSpecial={parseSpecial}\n  llama.cpp [{string.Join(' ', expected)}]\n  ours      [{string.Join(' ', actual)}]");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {compared} encodings differ:\n{string.Join('\n', failures.Take(8))}");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TokenPiecesMatchLlamaCpp(string kind)
    {
        var (ours, oracle) = Get(kind);
        Assert.Equal(oracle.VocabSize, ours.VocabSize);
        for (var id = 0; id < ours.VocabSize; id++)
        {
            Assert.True(oracle.TokenToPiece(id, special: true).AsSpan().SequenceEqual(ours.TokenBytes(id, renderSpecial: true)), $"token {id} '{ours.TokenText(id)}' rendered");
            Assert.True(oracle.TokenToPiece(id, special: false).AsSpan().SequenceEqual(ours.TokenBytes(id, renderSpecial: false)), $"token {id} '{ours.TokenText(id)}' plain");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SpecialTokensMatchLlamaCpp(string kind)
    {
        var (ours, oracle) = Get(kind);
        Assert.Equal(oracle.Bos, ours.BosId);
        Assert.Equal(oracle.Eos, ours.EosId);
        Assert.Equal(oracle.Eot, ours.EotId ?? -1);
        Assert.Equal(oracle.AddBos, ours.AddBos);
        Assert.Equal(oracle.AddEos, ours.AddEos);
        var endOfGeneration = 0;
        for (var id = 0; id < ours.VocabSize; id++)
        {
            Assert.True(oracle.IsEndOfGeneration(id) == ours.IsEndOfGeneration(id), $"token {id} '{ours.TokenText(id)}': llama.cpp EOG {oracle.IsEndOfGeneration(id)}");
            endOfGeneration += ours.IsEndOfGeneration(id) ? 1 : 0;
        }

        Assert.True(endOfGeneration >= 1);
    }

    [Theory]
    [MemberData(nameof(KindsWithoutCleanup))]
    public void DetokenizerMatchesLlamaDetokenize(string kind)
    {
        var (ours, oracle) = Get(kind);
        var strip = ours is SpmTokenizer spm && spm.AddSpacePrefix;
        foreach (var text in TokenizerTestData.Corpus.Concat(TokenizerTestData.RandomTexts(100, seed: 99)))
        {
            var ids = ours.Encode(text, addSpecial: false, parseSpecial: true);
            foreach (var skipSpecial in (ReadOnlySpan<bool>)[true, false])
            {
                // llama_detokenize strips the first token's leading space (add_space_prefix) and no other.
                var expected = Encoding.UTF8.GetString(oracle.Detokenize(ids, removeSpecial: false, unparseSpecial: !skipSpecial));
                var detokenizer = new IncrementalDetokenizer(ours, skipSpecial, stripLeadingSpace: strip);
                var actual = new StringBuilder();
                foreach (var id in ids)
                {
                    actual.Append(detokenizer.Append(id));
                }

                actual.Append(detokenizer.Flush());
                Assert.True(expected == actual.ToString(), $"'{TokenizerTestData.Show(text)}' skipSpecial={skipSpecial}: llama.cpp '{TokenizerTestData.Show(expected)}', ours '{TokenizerTestData.Show(actual.ToString())}'");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void DecodeOfPlainTextMatchesLlamaDetokenize(string kind)
    {
        var (ours, oracle) = Get(kind);
        foreach (var text in TokenizerTestData.Corpus)
        {
            if (kind is not ("spm" or "qwen2" or "smollm" or "spm-variant" or "bpe-variant") && HasCleanupPattern(text))
            {
                continue; // llama.cpp's clean_spaces rewrites " ." and the like for these pre-tokenizers; we do not
            }

            var ids = ours.Encode(text, addSpecial: false);
            var expected = Encoding.UTF8.GetString(oracle.Detokenize(ids, removeSpecial: false, unparseSpecial: false));
            Assert.Equal(expected, ours.Decode(ids, skipSpecial: true));
        }
    }

    private static bool HasCleanupPattern(string text) =>
        text.Contains(" ?", StringComparison.Ordinal) || text.Contains(" !", StringComparison.Ordinal) || text.Contains(" .", StringComparison.Ordinal)
        || text.Contains(" ,", StringComparison.Ordinal) || text.Contains(" '", StringComparison.Ordinal);

    internal static (Tokenizer Ours, LlamaVocabOracle Oracle) Get(string kind) => Loaded.GetOrAdd(kind, k => new(() =>
    {
        var vocab = TokenizerTestData.Vocab(k);
        return (Tokenizer.Create(vocab), LlamaVocabOracle.Load(vocab));
    })).Value;
}
