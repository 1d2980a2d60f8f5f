using System.Text;

namespace Kvasir.Model.Tokenizers;

/// <summary>
/// Turns text into token ids and back, identically to llama.cpp (llama_tokenize, llama_token_to_piece).
/// Instances are immutable: Encode and Decode may be called from any number of threads at once.
/// </summary>
public abstract partial class Tokenizer
{
    private readonly string[] _texts;
    private readonly Dictionary<string, int> _ids;
    private readonly TokenAttributes[] _attributes;

    /// <summary>Builds the parts every tokenizer shares: token lookup, types, special tokens, pieces.</summary>
    private protected Tokenizer(TokenizerVocab vocab)
    {
        Validate(vocab);
        Vocab = vocab;
        var n = vocab.Tokens.Length;
        _texts = new string[n];
        _ids = new Dictionary<string, int>(n, StringComparer.Ordinal);
        _attributes = new TokenAttributes[n];
        for (var i = 0; i < n; i++)
        {
            // llama.cpp renames empty tokens so that lookups never see an empty key.
            var text = vocab.Tokens[i].Length == 0 ? $"[EMPTY_{i}]" : vocab.Tokens[i];
            if (!_ids.TryAdd(text, i))
            {
                throw new ArgumentException($"Duplicate token in the vocabulary: '{text}' has ids {_ids[text]} and {i}.", nameof(vocab));
            }

            _texts[i] = text;
            _attributes[i] = vocab.TokenTypes is null ? TokenAttributes.Normal : AttributesOf(vocab.TokenTypes[i]);
        }

        IdLookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        EotId = vocab.EotId;
        _endOfGeneration = DetectSpecialTokens(vocab, out var eot);
        EotId ??= eot;
        _specialOrder = SpecialTokensLongestFirst();
        (_pieces, _plainPieces) = BuildPieces(vocab.Model == "gpt2");
    }

    /// <summary>The vocabulary this tokenizer was built from.</summary>
    public TokenizerVocab Vocab { get; }

    /// <summary>Number of tokens.</summary>
    public int VocabSize => _texts.Length;

    /// <summary>Beginning-of-sequence token, or -1.</summary>
    public int BosId => Vocab.BosId;

    /// <summary>End-of-sequence token, or -1.</summary>
    public int EosId => Vocab.EosId;

    /// <summary>End-of-turn token: the vocabulary's, else the first of llama.cpp's known texts (&lt;|eot_id|&gt;, &lt;|im_end|&gt;, ...) present; or null.</summary>
    public int? EotId { get; }

    /// <summary>Unknown token, or null.</summary>
    public int? UnkId => Vocab.UnkId;

    /// <summary>Padding token, or null.</summary>
    public int? PadId => Vocab.PadId;

    /// <summary>Whether <see cref="Encode"/> with addSpecial prepends BOS.</summary>
    public bool AddBos => Vocab.AddBos;

    /// <summary>Whether <see cref="Encode"/> with addSpecial appends EOS.</summary>
    public bool AddEos => Vocab.AddEos;

    /// <summary>Token text to id, for span lookups without allocation.</summary>
    private protected Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> IdLookup { get; }

    /// <summary>
    /// True when Decode drops the space that encoding put in front of the text and after each special token
    /// (SentencePiece with add_space_prefix).
    /// </summary>
    private protected virtual bool DecodeStripsSpacePrefix => false;

    /// <summary>
    /// Creates the tokenizer for a vocabulary: <see cref="SpmTokenizer"/> for model "llama",
    /// <see cref="BpeTokenizer"/> for model "gpt2" with a supported pre-tokenizer.
    /// </summary>
    /// <exception cref="ArgumentException">The model or pre-tokenizer is not supported, or the vocabulary is inconsistent.</exception>
    public static Tokenizer Create(TokenizerVocab vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        return vocab.Model switch
        {
            "llama" => new SpmTokenizer(vocab),
            "gpt2" => new BpeTokenizer(vocab),
            _ => throw new ArgumentException(
                $"Unsupported tokenizer model '{vocab.Model}' (tokenizer.ggml.model). Supported: 'llama' (SentencePiece) and 'gpt2' (byte-level BPE, pre-tokenizers: {string.Join(", ", BpePreTokenizer.SupportedNames)}).",
                nameof(vocab)),
        };
    }

    /// <summary>The token's text as the vocabulary spells it (with ▁ or Ġ for spaces).</summary>
    public string TokenText(int id) => _texts[CheckId(id)];

    /// <summary>The token's type as llama.cpp sees it.</summary>
    public TokenAttributes GetAttributes(int id) => _attributes[CheckId(id)];

    /// <summary>True for control, user-defined and unknown tokens: the ones special-token parsing matches by text.</summary>
    public bool IsSpecial(int id) => (GetAttributes(id) & SpecialAttributes) != 0;

    /// <summary>Finds the token whose text is exactly <paramref name="text"/>.</summary>
    public bool TryGetTokenId(string text, out int id) => _ids.TryGetValue(text, out id);

    /// <summary>
    /// True when generating this token ends generation: EOS, EOT and the control tokens llama.cpp treats as
    /// end of generation (&lt;|im_end|&gt;, &lt;|eot_id|&gt;, &lt;|end_of_text|&gt;, &lt;|endoftext|&gt;, ...).
    /// </summary>
    public bool IsEndOfGeneration(int id) => (uint)id < (uint)_endOfGeneration.Length && _endOfGeneration[id];

    /// <summary>
    /// Encodes text to token ids exactly as llama.cpp's llama_tokenize does.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecial">Add BOS and EOS as the vocabulary asks (<see cref="AddBos"/>, <see cref="AddEos"/>).</param>
    /// <param name="parseSpecial">Match the texts of control and unknown tokens in the input as those tokens (user-defined tokens are always matched).</param>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = ReplaceLoneSurrogates(text);
        var output = new List<int>(text.Length / 3 + 4);
        if (addSpecial && AddBos)
        {
            output.Add(BosId);
        }

        var atStart = true;
        foreach (var fragment in Partition(text, parseSpecial))
        {
            if (fragment.Token >= 0)
            {
                output.Add(fragment.Token);
                atStart = true;
            }
            else
            {
                EncodeText(text.AsSpan(fragment.Start, fragment.Length), atStart, output);
                atStart = false;
            }
        }

        if (addSpecial && AddEos)
        {
            output.Add(EosId);
        }

        return [.. output];
    }

    /// <summary>Encodes one fragment of plain text (no special tokens in it) and appends the ids.</summary>
    /// <param name="text">The fragment.</param>
    /// <param name="atStart">True at the start of the input and right after a special token.</param>
    /// <param name="output">Receives the ids.</param>
    private protected abstract void EncodeText(ReadOnlySpan<char> text, bool atStart, List<int> output);

    private protected int CheckId(int id) => (uint)id < (uint)_texts.Length
        ? id
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token ids are 0 to {_texts.Length - 1}.");

    private protected string TextOf(int id) => _texts[id];

    private protected TokenAttributes AttributesOfToken(int id) => _attributes[id];

    private static TokenAttributes AttributesOf(int type) => type switch
    {
        (int)GgmlTokenType.Normal => TokenAttributes.Normal,
        (int)GgmlTokenType.Unknown => TokenAttributes.Unknown,
        (int)GgmlTokenType.Control => TokenAttributes.Control,
        (int)GgmlTokenType.UserDefined => TokenAttributes.UserDefined,
        (int)GgmlTokenType.Unused => TokenAttributes.Unused,
        (int)GgmlTokenType.Byte => TokenAttributes.Byte,
        _ => TokenAttributes.None,
    };

    private static void Validate(TokenizerVocab vocab)
    {
        var n = vocab.Tokens?.Length ?? 0;
        if (n == 0)
        {
            throw new ArgumentException("The vocabulary has no tokens.", nameof(vocab));
        }

        if (vocab.Scores is { } scores && scores.Length < n)
        {
            throw new ArgumentException($"The vocabulary has {n} tokens but {scores.Length} scores.", nameof(vocab));
        }

        if (vocab.TokenTypes is { } types && types.Length < n)
        {
            throw new ArgumentException($"The vocabulary has {n} tokens but {types.Length} token types.", nameof(vocab));
        }

        foreach (var (name, id) in new[] { ("BosId", (int?)vocab.BosId), ("EosId", vocab.EosId), ("UnkId", vocab.UnkId), ("PadId", vocab.PadId), ("EotId", vocab.EotId) })
        {
            if (id is int value && (value < -1 || value >= n || (value == -1 && name is not ("BosId" or "EosId"))))
            {
                throw new ArgumentException($"{name} {value} is outside the vocabulary of {n} tokens.", nameof(vocab));
            }
        }

        if (vocab.AddBos && vocab.BosId < 0)
        {
            throw new ArgumentException("AddBos (tokenizer.ggml.add_bos_token) is true but there is no BOS token.", nameof(vocab));
        }

        if (vocab.AddEos && vocab.EosId < 0)
        {
            throw new ArgumentException("AddEos (tokenizer.ggml.add_eos_token) is true but there is no EOS token.", nameof(vocab));
        }
    }

    // .NET strings may hold unpaired surrogates; UTF-8 conversion (what llama.cpp receives) turns each into U+FFFD.
    private static string ReplaceLoneSurrogates(string text)
    {
        var i = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        builder.Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else
            {
                builder.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
            }
        }

        return builder.ToString();
    }
}
