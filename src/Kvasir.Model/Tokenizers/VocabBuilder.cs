using System.Text;

namespace Kvasir.Model.Tokenizers;

/// <summary>
/// Makes vocabularies from a text corpus: for test and random-weight models (kvasir make-model) and for
/// training our own. Training is deterministic: the same corpus and size give the same vocabulary.
/// </summary>
public static partial class VocabBuilder
{
    /// <summary>The control tokens a trained BPE vocabulary ends with, in this order.</summary>
    public static readonly string[] BpeSpecialTokens = ["<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>"];

    /// <summary>
    /// Trains a byte-level BPE vocabulary (model "gpt2"): the 256 byte tokens (id = byte value), then one token per
    /// learned merge, most frequent pair first (ties to the smallest pair of ids), then the control tokens
    /// &lt;|begin_of_text|&gt; (BOS), &lt;|end_of_text|&gt; (EOS), &lt;|im_start|&gt; and &lt;|im_end|&gt; (EOT).
    /// Words are split by the pre-tokenizer <paramref name="pre"/>, so merges never cross what encoding keeps
    /// apart. When the corpus runs out of pairs first, reserved control tokens fill the vocabulary up to
    /// <paramref name="vocabSize"/>.
    /// </summary>
    /// <param name="corpus">Training text.</param>
    /// <param name="vocabSize">Number of tokens, at least 260.</param>
    /// <param name="pre">A pre-tokenizer name that <see cref="BpeTokenizer"/> supports.</param>
    public static TokenizerVocab TrainBpe(string corpus, int vocabSize, string pre = "llama-bpe")
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var preTokenizer = BpePreTokenizer.Find(pre) ?? throw new ArgumentException(
            $"Unsupported BPE pre-tokenizer '{pre}'. Supported: {string.Join(", ", BpePreTokenizer.SupportedNames)}.", nameof(pre));
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 256 + BpeSpecialTokens.Length);

        // Count the words, spelled with GPT-2's byte characters.
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var codepoints = new List<int>(corpus.Length);
        foreach (var rune in corpus.EnumerateRunes())
        {
            codepoints.Add(rune.Value);
        }

        var lengths = new List<int>();
        preTokenizer.Split(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(codepoints), lengths, []);
        var start = 0;
        var spelled = new StringBuilder();
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var length in lengths)
        {
            spelled.Clear();
            for (var i = start; i < start + length; i++)
            {
                var n = new Rune(codepoints[i]).EncodeToUtf8(utf8);
                for (var j = 0; j < n; j++)
                {
                    spelled.Append(ByteLevel.ByteToChar[utf8[j]]);
                }
            }

            start += length;
            var key = spelled.ToString();
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        var tokens = new List<string>(vocabSize);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var b = 0; b < 256; b++)
        {
            AddToken(tokens, ids, ByteLevel.ByteToChar[b].ToString());
        }

        var words = SortedWords(counts, out var frequencies, word => [.. word.Select(c => (int)ByteLevel.ToByte(c))]);
        var merges = new List<string>();
        var target = vocabSize - BpeSpecialTokens.Length;
        var trainer = new MergeTrainer(words, frequencies);
        while (tokens.Count < target && trainer.TryGetBestPair(out var left, out var right))
        {
            var text = tokens[left] + tokens[right];
            if (!ids.TryGetValue(text, out var merged))
            {
                merged = AddToken(tokens, ids, text);
            }

            merges.Add(tokens[left] + " " + tokens[right]);
            trainer.Merge(left, right, merged);
        }

        var learned = tokens.Count;
        PadWithReserved(tokens, ids, target);
        foreach (var special in BpeSpecialTokens)
        {
            AddToken(tokens, ids, special);
        }

        var types = new int[tokens.Count];
        for (var i = 0; i < types.Length; i++)
        {
            types[i] = (int)(i < learned ? GgmlTokenType.Normal : GgmlTokenType.Control);
        }

        return new TokenizerVocab
        {
            Model = "gpt2",
            Pre = pre,
            Tokens = [.. tokens],
            TokenTypes = types,
            Merges = [.. merges],
            BosId = ids[BpeSpecialTokens[0]],
            EosId = ids[BpeSpecialTokens[1]],
            EotId = ids[BpeSpecialTokens[3]],
            AddBos = true,
            AddEos = false,
            AddSpacePrefix = false,
        };
    }

    /// <summary>
    /// Trains a SentencePiece-style vocabulary (model "llama"): &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256
    /// byte-fallback tokens &lt;0x00&gt;..&lt;0xFF&gt;, the corpus's characters (most frequent first), then the
    /// pieces of BPE merges counted over the ▁-escaped text (words start at each ▁; newlines, tabs and other
    /// control characters stay alone and are encoded as bytes). Scores fall with rank, so llama.cpp's
    /// highest-score-first merging follows the learned merge order. Reserved control tokens fill the
    /// vocabulary when the corpus runs out of pairs.
    /// </summary>
    /// <param name="corpus">Training text.</param>
    /// <param name="vocabSize">Number of tokens, at least 260.</param>
    public static TokenizerVocab TrainSpm(string corpus, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 260);

        var tokens = new List<string>(vocabSize);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        AddToken(tokens, ids, "<unk>");
        AddToken(tokens, ids, "<s>");
        AddToken(tokens, ids, "</s>");
        for (var b = 0; b < 256; b++)
        {
            AddToken(tokens, ids, $"<0x{b:X2}>");
        }

        var reservedCount = tokens.Count;

        // Words of the escaped text, as encoding will see it: a ▁ in front, spaces as ▁.
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var escaped = "▁" + corpus.Replace(' ', '▁');
        var wordStart = 0;
        for (var i = 0; i <= escaped.Length; i++)
        {
            var end = i == escaped.Length;
            var breaks = !end && char.IsControl(escaped[i]);
            if (end || breaks || (escaped[i] == '▁' && i > wordStart))
            {
                if (i > wordStart)
                {
                    var word = escaped[wordStart..i];
                    counts[word] = counts.GetValueOrDefault(word) + 1;
                }

                wordStart = breaks ? i + 1 : i;
            }
        }

        // Characters, most frequent first; symbols are numbered in that order.
        var characterCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (word, count) in counts)
        {
            foreach (var rune in word.EnumerateRunes())
            {
                var key = rune.ToString();
                characterCounts[key] = characterCounts.GetValueOrDefault(key) + count;
            }
        }

        var characters = characterCounts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key).ToList();
        var symbolTexts = new List<string>(characters);
        var symbolOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < characters.Count; i++)
        {
            symbolOf.Add(characters[i], i);
            if (tokens.Count < vocabSize && !ids.ContainsKey(characters[i]))
            {
                AddToken(tokens, ids, characters[i]);
            }
        }

        var words = SortedWords(counts, out var frequencies, word =>
        {
            var symbols = new List<int>();
            foreach (var rune in word.EnumerateRunes())
            {
                symbols.Add(symbolOf[rune.ToString()]);
            }

            return [.. symbols];
        });

        var trainer = new MergeTrainer(words, frequencies);
        while (tokens.Count < vocabSize && trainer.TryGetBestPair(out var left, out var right))
        {
            var text = symbolTexts[left] + symbolTexts[right];
            if (!symbolOf.TryGetValue(text, out var merged))
            {
                merged = symbolTexts.Count;
                symbolTexts.Add(text);
                symbolOf.Add(text, merged);
            }

            if (!ids.ContainsKey(text))
            {
                AddToken(tokens, ids, text);
            }

            trainer.Merge(left, right, merged);
        }

        var learned = tokens.Count;
        PadWithReserved(tokens, ids, vocabSize);
        var scores = new float[tokens.Count];
        var types = new int[tokens.Count];
        for (var i = 0; i < tokens.Count; i++)
        {
            types[i] = i switch
            {
                0 => (int)GgmlTokenType.Unknown,
                1 or 2 => (int)GgmlTokenType.Control,
                < 259 => (int)GgmlTokenType.Byte,
                _ when i < learned => (int)GgmlTokenType.Normal,
                _ => (int)GgmlTokenType.Control,
            };
            scores[i] = i >= reservedCount && i < learned ? -(i - reservedCount) : 0f;
        }

        return new TokenizerVocab
        {
            Model = "llama",
            Pre = "default",
            Tokens = [.. tokens],
            Scores = scores,
            TokenTypes = types,
            BosId = 1,
            EosId = 2,
            UnkId = 0,
            AddBos = true,
            AddEos = false,
            AddSpacePrefix = true,
        };
    }

    private static int AddToken(List<string> tokens, Dictionary<string, int> ids, string text)
    {
        ids.Add(text, tokens.Count);
        tokens.Add(text);
        return tokens.Count - 1;
    }

    private static void PadWithReserved(List<string> tokens, Dictionary<string, int> ids, int size)
    {
        for (var k = 0; tokens.Count < size; k++)
        {
            var text = $"<|reserved_{k}|>";
            if (!ids.ContainsKey(text))
            {
                AddToken(tokens, ids, text);
            }
        }
    }

    // Distinct words in ordinal order (so that training does not depend on hash order), as symbol arrays.
    private static List<int[]> SortedWords(Dictionary<string, long> counts, out List<long> frequencies, Func<string, int[]> symbols)
    {
        var keys = counts.Keys.ToArray();
        Array.Sort(keys, StringComparer.Ordinal);
        var words = new List<int[]>(keys.Length);
        frequencies = new List<long>(keys.Length);
        foreach (var key in keys)
        {
            words.Add(symbols(key));
            frequencies.Add(counts[key]);
        }

        return words;
    }
}
