using System.Buffers;
using System.Text;

namespace Kvasir.Model.Tokenizers;

/// <summary>
/// The byte-level BPE tokenizer of llama.cpp (tokenizer.ggml.model = "gpt2"): the text is split into words
/// by the pre-tokenizer that tokenizer.ggml.pre names, each word's UTF-8 bytes are spelled with GPT-2's byte
/// characters, then within each word the adjacent pair with the best (lowest) merge rank is merged until no
/// pair has a merge (ties: the leftmost).
/// </summary>
public sealed class BpeTokenizer : Tokenizer
{
    private readonly BpePreTokenizer _preTokenizer;

    // (left piece, right piece) → (rank << 32) | merged piece. A piece is a token id, or an id at or above
    // VocabSize for strings that merges mention but the vocabulary lacks.
    private readonly Dictionary<long, long> _merges;

    // Indexed by byte: the piece of the byte's character, where every word starts.
    private readonly int[] _byteSymbols;

    // Indexed by byte: the token a leftover byte falls back to. llama.cpp looks up each byte of the spelled
    // text alone, which only finds printable ASCII characters (they spell themselves); -1 elsewhere.
    private readonly int[] _fallbackTokens;

    internal BpeTokenizer(TokenizerVocab vocab)
        : base(vocab)
    {
        if (vocab.Model != "gpt2")
        {
            throw new ArgumentException($"BpeTokenizer needs tokenizer model 'gpt2', not '{vocab.Model}'.", nameof(vocab));
        }

        _preTokenizer = BpePreTokenizer.Find(vocab.Pre) ?? throw new ArgumentException(
            $"Unsupported BPE pre-tokenizer '{vocab.Pre}' (tokenizer.ggml.pre). Supported: {string.Join(", ", BpePreTokenizer.SupportedNames)}.",
            nameof(vocab));
        var merges = vocab.Merges ?? throw new ArgumentException("A 'gpt2' vocabulary needs merges (tokenizer.ggml.merges).", nameof(vocab));

        var extra = new Dictionary<string, int>(StringComparer.Ordinal);
        int Intern(string text)
        {
            if (TryGetTokenId(text, out var id) || extra.TryGetValue(text, out id))
            {
                return id;
            }

            id = VocabSize + extra.Count;
            extra.Add(text, id);
            return id;
        }

        _merges = new Dictionary<long, long>(merges.Length);
        for (var rank = 0; rank < merges.Length; rank++)
        {
            var merge = merges[rank];
            var space = merge.Length > 1 ? merge.IndexOf(' ', 1) : -1;
            if (space < 0)
            {
                continue;
            }

            var left = merge[..space];
            var right = merge[(space + 1)..];
            var merged = Intern(left + right);

            // The first occurrence of a pair keeps its rank, as in llama.cpp.
            _merges.TryAdd(Pack(Intern(left), Intern(right)), ((long)rank << 32) | (uint)merged);
        }

        _byteSymbols = new int[256];
        _fallbackTokens = new int[256];
        for (var b = 0; b < 256; b++)
        {
            _byteSymbols[b] = Intern(ByteLevel.ByteToChar[b].ToString());
            _fallbackTokens[b] = b is >= 0x21 and <= 0x7E && TryGetTokenId(((char)b).ToString(), out var id) ? id : -1;
        }
    }

    /// <summary>The tokenizer.ggml.pre name of the pre-tokenizer in use.</summary>
    public string PreTokenizer => _preTokenizer.Name;

    private protected override void EncodeText(ReadOnlySpan<char> fragment, bool atStart, List<int> output)
    {
        var codepoints = ArrayPool<int>.Shared.Rent(fragment.Length);
        var bytes = ArrayPool<byte>.Shared.Rent(fragment.Length * 3);
        var spelled = ArrayPool<char>.Shared.Rent(fragment.Length * 3);
        var symbols = ArrayPool<Symbol>.Shared.Rent(fragment.Length * 3);
        try
        {
            var count = 0;
            for (var i = 0; i < fragment.Length; i++)
            {
                var c = fragment[i];
                codepoints[count++] = char.IsHighSurrogate(c) && i + 1 < fragment.Length && char.IsLowSurrogate(fragment[i + 1])
                    ? char.ConvertToUtf32(c, fragment[++i])
                    : c;
            }

            var words = new List<int>();
            _preTokenizer.Split(codepoints.AsSpan(0, count), words, new List<int>());
            var queue = new PriorityQueue<Bigram, ulong>();
            var start = 0;
            foreach (var wordLength in words)
            {
                var byteCount = 0;
                for (var i = start; i < start + wordLength; i++)
                {
                    byteCount += new Rune(codepoints[i]).EncodeToUtf8(bytes.AsSpan(byteCount));
                }

                start += wordLength;
                EncodeWord(bytes.AsSpan(0, byteCount), spelled, symbols, queue, output);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(codepoints);
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<char>.Shared.Return(spelled);
            ArrayPool<Symbol>.Shared.Return(symbols);
        }
    }

    private void EncodeWord(ReadOnlySpan<byte> word, char[] spelled, Symbol[] symbols, PriorityQueue<Bigram, ulong> queue, List<int> output)
    {
        if (_preTokenizer.IgnoreMerges)
        {
            for (var i = 0; i < word.Length; i++)
            {
                spelled[i] = ByteLevel.ByteToChar[word[i]];
            }

            if (IdLookup.TryGetValue(spelled.AsSpan(0, word.Length), out var whole))
            {
                output.Add(whole);
                return;
            }
        }

        for (var i = 0; i < word.Length; i++)
        {
            symbols[i] = new Symbol(_byteSymbols[word[i]], i, 1, i - 1, i + 1 == word.Length ? -1 : i + 1);
        }

        queue.Clear();
        for (var i = 1; i < word.Length; i++)
        {
            TryAddBigram(symbols, queue, i - 1, i);
        }

        while (queue.TryDequeue(out var bigram, out _))
        {
            ref var left = ref symbols[bigram.Left];
            ref var right = ref symbols[bigram.Right];

            // Skip pairs of which one side has changed since they were queued.
            if (left.Length == 0 || right.Length == 0 || left.Piece != bigram.LeftPiece || right.Piece != bigram.RightPiece)
            {
                continue;
            }

            left.Piece = bigram.Merged;
            left.Length += right.Length;
            right.Length = 0;
            left.Next = right.Next;
            if (right.Next >= 0)
            {
                symbols[right.Next].Prev = bigram.Left;
            }

            TryAddBigram(symbols, queue, left.Prev, bigram.Left);
            TryAddBigram(symbols, queue, bigram.Left, left.Next);
        }

        for (var i = 0; i != -1 && word.Length > 0; i = symbols[i].Next)
        {
            var symbol = symbols[i];
            if (symbol.Piece < VocabSize)
            {
                output.Add(symbol.Piece);
                continue;
            }

            for (var j = symbol.Start; j < symbol.Start + symbol.Length; j++)
            {
                var token = _fallbackTokens[word[j]];
                if (token >= 0)
                {
                    output.Add(token);
                }
            }
        }
    }

    private void TryAddBigram(Symbol[] symbols, PriorityQueue<Bigram, ulong> queue, int left, int right)
    {
        if (left < 0 || right < 0)
        {
            return;
        }

        var leftPiece = symbols[left].Piece;
        var rightPiece = symbols[right].Piece;
        if (_merges.TryGetValue(Pack(leftPiece, rightPiece), out var merge))
        {
            var rank = (int)(merge >> 32);
            queue.Enqueue(new Bigram(left, right, leftPiece, rightPiece, (int)merge), ((ulong)rank << 32) | (uint)left);
        }
    }

    // Multiplying by an odd constant is a bijection on 64 bits, so keys stay unique, and it spreads the pair
    // over all bits: long.GetHashCode (low ^ high half) of the plain packing is left ^ right, which collides
    // badly for real vocabularies (measured: 0.65 MB/s instead of several MB/s on cl100k with qwen2).
    private static long Pack(int left, int right) => (long)((((ulong)(uint)left << 32) | (uint)right) * 0x9E3779B97F4A7C15UL);

    private record struct Symbol(int Piece, int Start, int Length, int Prev, int Next);

    private readonly record struct Bigram(int Left, int Right, int LeftPiece, int RightPiece, int Merged);
}
