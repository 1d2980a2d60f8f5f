using System.Buffers;
using System.Text;

namespace Kvasir.Model.Tokenizers;

/// <summary>
/// The SentencePiece-style tokenizer of llama.cpp (tokenizer.ggml.model = "llama"): spaces become ▁ (U+2581),
/// a ▁ is put in front of the text and after every special token when <see cref="AddSpacePrefix"/> is set, then
/// adjacent symbols (starting from single characters) are merged while some adjacent pair spells a token,
/// always the pair whose token has the highest score (ties: the leftmost). Characters left that are not
/// tokens fall back to their UTF-8 bytes as &lt;0xNN&gt; tokens.
/// </summary>
public sealed class SpmTokenizer : Tokenizer
{
    private readonly float[] _scores;

    // Indexed by byte: the byte-fallback token (<0xNN>, else the one-character token, else UNK), or -1.
    private readonly int[] _byteTokens;

    // Every pair of adjacent UTF-16 characters inside some token's text. Between two characters that form no
    // such pair no merge can ever happen, so the text is cut there into chunks merged independently; the
    // result is the same as merging the whole text at once (merges in one chunk never change the bigrams of
    // another, and within a chunk the order by score and position is kept), but the queue stays small.
    // Measured on 430 KB of prose (Release, loaded 2-core machine): 0.9 MB/s as one queue, 4.5 MB/s in chunks.
    private readonly HashSet<int> _pairsInTokens = [];

    internal SpmTokenizer(TokenizerVocab vocab)
        : base(vocab)
    {
        if (vocab.Model != "llama")
        {
            throw new ArgumentException($"SpmTokenizer needs tokenizer model 'llama', not '{vocab.Model}'.", nameof(vocab));
        }

        _scores = vocab.Scores ?? new float[VocabSize];
        _byteTokens = new int[256];
        for (var b = 0; b < 256; b++)
        {
            _byteTokens[b] = TryGetTokenId($"<0x{b:X2}>", out var id) ? id
                : b < 0x80 && TryGetTokenId(((char)b).ToString(), out id) ? id
                : vocab.UnkId ?? -1;
        }

        for (var id = 0; id < VocabSize; id++)
        {
            var text = TokenText(id);
            for (var i = 1; i < text.Length; i++)
            {
                _pairsInTokens.Add((text[i - 1] << 16) | text[i]);
            }
        }
    }

    /// <summary>Whether a space is put in front of the text and after each special token (tokenizer.ggml.add_space_prefix).</summary>
    public bool AddSpacePrefix => Vocab.AddSpacePrefix;

    private protected override bool DecodeStripsSpacePrefix => Vocab.AddSpacePrefix;

    private protected override void EncodeText(ReadOnlySpan<char> fragment, bool atStart, List<int> output)
    {
        var prefix = atStart && AddSpacePrefix ? 1 : 0;
        var length = fragment.Length + prefix;
        if (length == 0)
        {
            return;
        }

        var textBuffer = ArrayPool<char>.Shared.Rent(length);
        var symbols = ArrayPool<Symbol>.Shared.Rent(length);
        try
        {
            // Escape spaces (and the prefix) as ▁.
            var text = textBuffer.AsSpan(0, length);
            if (prefix == 1)
            {
                text[0] = '▁';
            }

            fragment.Replace(text[prefix..], ' ', '▁');

            var queue = new PriorityQueue<Bigram, ulong>();
            var chunkStart = 0;
            for (var i = 1; i <= length; i++)
            {
                if (i == length || (!char.IsLowSurrogate(text[i]) && !_pairsInTokens.Contains((text[i - 1] << 16) | text[i])))
                {
                    EncodeChunk(text[chunkStart..i], symbols, queue, output);
                    chunkStart = i;
                }
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(textBuffer);
            ArrayPool<Symbol>.Shared.Return(symbols);
        }
    }

    // llama.cpp's llm_tokenizer_spm_session.tokenize on one chunk of escaped text.
    private void EncodeChunk(ReadOnlySpan<char> text, Symbol[] symbols, PriorityQueue<Bigram, ulong> queue, List<int> output)
    {
        // One symbol per code point, chained.
        var count = 0;
        for (var i = 0; i < text.Length;)
        {
            var n = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            symbols[count] = new Symbol(i, n, count - 1, i + n == text.Length ? -1 : count + 1);
            count++;
            i += n;
        }

        queue.Clear();
        for (var i = 1; i < count; i++)
        {
            TryAddBigram(text, symbols, queue, i - 1, i);
        }

        while (queue.TryDequeue(out var bigram, out _))
        {
            ref var left = ref symbols[bigram.Left];
            ref var right = ref symbols[bigram.Right];

            // Skip pairs of which one side has changed since they were queued.
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Length)
            {
                continue;
            }

            left.Length += right.Length;
            right.Length = 0;
            left.Next = right.Next;
            if (right.Next >= 0)
            {
                symbols[right.Next].Prev = bigram.Left;
            }

            TryAddBigram(text, symbols, queue, left.Prev, bigram.Left);
            TryAddBigram(text, symbols, queue, bigram.Left, left.Next);
        }

        for (var i = 0; i != -1; i = symbols[i].Next)
        {
            var piece = text.Slice(symbols[i].Start, symbols[i].Length);
            if (IdLookup.TryGetValue(piece, out var id))
            {
                output.Add(id);
                continue;
            }

            // Only single characters can be left without a token: fall back to their bytes.
            Span<byte> utf8 = stackalloc byte[8];
            var n = Encoding.UTF8.GetBytes(piece, utf8);
            for (var j = 0; j < n; j++)
            {
                var token = _byteTokens[utf8[j]];
                if (token >= 0)
                {
                    output.Add(token);
                }
            }
        }
    }

    private void TryAddBigram(ReadOnlySpan<char> text, Symbol[] symbols, PriorityQueue<Bigram, ulong> queue, int left, int right)
    {
        if (left < 0 || right < 0)
        {
            return;
        }

        var length = symbols[left].Length + symbols[right].Length;
        if (!IdLookup.TryGetValue(text.Slice(symbols[left].Start, length), out var id))
        {
            return;
        }

        queue.Enqueue(new Bigram(left, right, length), Priority(_scores[id], left));
    }

    // Highest score first, then leftmost: the score's bits made order-preserving as unsigned, inverted.
    private static ulong Priority(float score, int left)
    {
        if (score == 0)
        {
            score = 0; // -0 ties with +0, as a float comparison has it
        }

        var bits = BitConverter.SingleToUInt32Bits(score);
        var ordered = (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
        return ((ulong)~ordered << 32) | (uint)left;
    }

    private record struct Symbol(int Start, int Length, int Prev, int Next);

    private readonly record struct Bigram(int Left, int Right, int Length);
}
