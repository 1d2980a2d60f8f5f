namespace Kvasir.Model.Tokenizers;

/// <summary>
/// Splits text into the words that byte-level BPE merges within, exactly as llama.cpp does for each
/// tokenizer.ggml.pre name. llama.cpp runs a list of regexes, each splitting the pieces the previous one made
/// (the matches and the gaps between them both become pieces); the GPT-2 and Llama 3 regexes run as
/// hand-written matchers, the others through std::regex. Each step here is a hand-written matcher that
/// reproduces what llama.cpp's step produces; all work on code points.
/// </summary>
internal sealed class BpePreTokenizer
{
    private const byte LetterNumberSpace = UnicodeClass.Letter | UnicodeClass.Number | UnicodeClass.Whitespace;

    private static readonly Dictionary<string, BpePreTokenizer> ByName = BuildTable();

    private readonly Step[] _steps;

    private BpePreTokenizer(string name, Step[] steps, bool ignoreMerges)
    {
        Name = name;
        _steps = steps;
        IgnoreMerges = ignoreMerges;
    }

    private enum Step : byte
    {
        /// <summary>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) (llama.cpp's custom GPT-2 matcher).</summary>
        Gpt2,

        /// <summary>Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+.</summary>
        Llama3,

        /// <summary>Qwen2: the Llama 3 regex with \p{N} (one digit per piece) instead of \p{N}{1,3}.</summary>
        Qwen2,

        /// <summary>[\p{P}\$\+&lt;=&gt;\^~\|]+ (first step of the "default" pre-tokenizer).</summary>
        PunctuationRuns,

        /// <summary>\p{N}+.</summary>
        NumberRuns,

        /// <summary>[0-9][0-9][0-9].</summary>
        AsciiDigitTriples,

        /// <summary>\p{N}: every number character alone.</summary>
        SingleNumbers,
    }

    /// <summary>The pre-tokenizer names this class knows.</summary>
    public static IReadOnlyCollection<string> SupportedNames => ByName.Keys;

    /// <summary>The tokenizer.ggml.pre name this pre-tokenizer was chosen by.</summary>
    public string Name { get; }

    /// <summary>
    /// True when a word that is itself a token is emitted as that token without merging (llama.cpp's
    /// ignore_merges, set for the Llama 3 family).
    /// </summary>
    public bool IgnoreMerges { get; }

    /// <summary>Finds the pre-tokenizer for a name; null or empty means "default", as in llama.cpp.</summary>
    public static BpePreTokenizer? Find(string? pre) => ByName.GetValueOrDefault(string.IsNullOrEmpty(pre) ? "default" : pre);

    /// <summary>Splits <paramref name="codepoints"/> into words; appends each word's length in code points to <paramref name="lengths"/>.</summary>
    /// <param name="codepoints">The text.</param>
    /// <param name="lengths">Receives the word lengths; cleared first.</param>
    /// <param name="scratch">A scratch list, used between steps.</param>
    public void Split(ReadOnlySpan<int> codepoints, List<int> lengths, List<int> scratch)
    {
        lengths.Clear();
        if (codepoints.IsEmpty)
        {
            return;
        }

        lengths.Add(codepoints.Length);
        foreach (var step in _steps)
        {
            scratch.Clear();
            var start = 0;
            foreach (var length in lengths)
            {
                var end = start + length;
                switch (step)
                {
                    case Step.Gpt2: SplitGpt2(codepoints, start, end, scratch); break;
                    case Step.Llama3: SplitLlama3(codepoints, start, end, scratch, maxDigits: 3); break;
                    case Step.Qwen2: SplitLlama3(codepoints, start, end, scratch, maxDigits: 1); break;
                    case Step.PunctuationRuns: SplitRuns(codepoints, start, end, scratch, numbers: false, single: false); break;
                    case Step.NumberRuns: SplitRuns(codepoints, start, end, scratch, numbers: true, single: false); break;
                    case Step.SingleNumbers: SplitRuns(codepoints, start, end, scratch, numbers: true, single: true); break;
                    case Step.AsciiDigitTriples: SplitAsciiDigitTriples(codepoints, start, end, scratch); break;
                }

                start = end;
            }

            lengths.Clear();
            lengths.AddRange(scratch);
        }
    }

    private static Dictionary<string, BpePreTokenizer> BuildTable()
    {
        var table = new Dictionary<string, BpePreTokenizer>(StringComparer.Ordinal);
        void Add(Step[] steps, bool ignoreMerges, params string[] names)
        {
            foreach (var name in names)
            {
                table.Add(name, new BpePreTokenizer(name, steps, ignoreMerges));
            }
        }

        // The name groups follow llama.cpp's llama-vocab.cpp (which pre name selects which regex list).
        Add([Step.PunctuationRuns, Step.Gpt2, Step.NumberRuns, Step.AsciiDigitTriples], false, "default");
        Add([Step.Gpt2], false, "gpt-2", "phi-2", "mpt", "olmo", "jais");
        Add([Step.Llama3], true, "llama-bpe", "llama3", "llama-v3", "falcon3", "pixtral");
        Add([Step.Llama3], false, "dbrx", "smaug-bpe");
        Add([Step.Qwen2], false, "qwen2", "deepseek-r1-qwen", "megrez", "stablelm2");
        Add([Step.SingleNumbers, Step.Gpt2], false, "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b");
        return table;
    }

    // llama.cpp collapses \p{P} to Unicode punctuation plus the ASCII characters of category P, and the
    // "default" regex adds $ + < = > ^ ~ | (the backtick is not included).
    private static bool IsDefaultPunctuation(int c) => c < 0x80
        ? c is (>= '!' and <= '#') or (>= '%' and <= '*') or (>= ',' and <= '/') or ':' or ';' or '?' or '@'
            or '[' or '\\' or ']' or '_' or '{' or '}' or '$' or '+' or '<' or '=' or '>' or '^' or '~' or '|'
        : (UnicodeClass.Of(c) & UnicodeClass.Punctuation) != 0;

    private static bool IsAsciiDigit(int c) => (uint)(c - '0') <= 9;

    private static bool IsCrOrLf(int c) => c is '\r' or '\n';

    private static bool IsPunctuationLike(int c) => (UnicodeClass.Of(c) & LetterNumberSpace) == 0;

    // Appends the piece [previousEnd, end) when it is not empty.
    private static void Emit(List<int> output, ref int previousEnd, int end)
    {
        if (end > previousEnd)
        {
            output.Add(end - previousEnd);
        }

        previousEnd = end;
    }

    private static bool IsContraction(ReadOnlySpan<int> cp, int pos, int end, bool ignoreCase, out int length)
    {
        length = 0;
        if (cp[pos] != '\'' || pos + 1 >= end)
        {
            return false;
        }

        var n = ignoreCase ? AsciiLower(cp[pos + 1]) : cp[pos + 1];
        if (n is 's' or 't' or 'm' or 'd')
        {
            length = 2;
            return true;
        }

        if (pos + 2 < end)
        {
            var nn = ignoreCase ? AsciiLower(cp[pos + 2]) : cp[pos + 2];
            if ((n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l'))
            {
                length = 3;
                return true;
            }
        }

        return false;
    }

    // Only ASCII letters lower-case to the letters of the contractions (llama.cpp uses its full tolower table).
    private static int AsciiLower(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;

    private static void SplitGpt2(ReadOnlySpan<int> cp, int start, int end, List<int> output)
    {
        var previous = start;
        var pos = start;
        while (pos < end)
        {
            var c = cp[pos];
            if (IsContraction(cp, pos, end, ignoreCase: false, out var contraction))
            {
                pos += contraction;
                Emit(output, ref previous, pos);
                continue;
            }

            // " ?X+": the class is decided by the character after an optional leading space.
            var classPos = c == ' ' ? pos + 1 : pos;
            var classFlags = classPos < end ? UnicodeClass.Of(cp[classPos]) : (byte)0;
            if ((classFlags & UnicodeClass.Letter) != 0)
            {
                pos = classPos;
                while (pos < end && UnicodeClass.IsLetter(cp[pos]))
                {
                    pos++;
                }

                Emit(output, ref previous, pos);
                continue;
            }

            if ((classFlags & UnicodeClass.Number) != 0)
            {
                pos = classPos;
                while (pos < end && UnicodeClass.IsNumber(cp[pos]))
                {
                    pos++;
                }

                Emit(output, ref previous, pos);
                continue;
            }

            if (classPos < end && (classFlags & LetterNumberSpace) == 0)
            {
                pos = classPos;
                while (pos < end && IsPunctuationLike(cp[pos]))
                {
                    pos++;
                }

                Emit(output, ref previous, pos);
                continue;
            }

            pos = EmitWhitespace(cp, pos, end, output, ref previous, splitAtNewline: false);
        }
    }

    private static void SplitLlama3(ReadOnlySpan<int> cp, int start, int end, List<int> output, int maxDigits)
    {
        var previous = start;
        var pos = start;
        while (pos < end)
        {
            var c = cp[pos];
            var flags = UnicodeClass.Of(c);
            if (IsContraction(cp, pos, end, ignoreCase: true, out var contraction))
            {
                pos += contraction;
                Emit(output, ref previous, pos);
                continue;
            }

            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (!IsCrOrLf(c) && (flags & UnicodeClass.Number) == 0
                && ((flags & UnicodeClass.Letter) != 0 || (pos + 1 < end && UnicodeClass.IsLetter(cp[pos + 1]))))
            {
                pos++;
                while (pos < end && UnicodeClass.IsLetter(cp[pos]))
                {
                    pos++;
                }

                Emit(output, ref previous, pos);
                continue;
            }

            // \p{N}{1,maxDigits}
            if ((flags & UnicodeClass.Number) != 0)
            {
                var first = pos;
                while (pos < end && UnicodeClass.IsNumber(cp[pos]))
                {
                    pos++;
                    if (pos - first >= maxDigits)
                    {
                        Emit(output, ref previous, pos);
                        first = pos;
                    }
                }

                Emit(output, ref previous, pos);
                continue;
            }

            // " ?[^\s\p{L}\p{N}]+[\r\n]*". A lone space at the end of a piece also lands here (as one piece,
            // which is what the regex's \s+(?!\S) would make of it).
            var punctuation = c == ' '
                ? pos + 1 >= end || IsPunctuationLike(cp[pos + 1])
                : (flags & LetterNumberSpace) == 0;
            if (punctuation)
            {
                if (c == ' ')
                {
                    pos++;
                }

                while (pos < end && IsPunctuationLike(cp[pos]))
                {
                    pos++;
                }

                while (pos < end && IsCrOrLf(cp[pos]))
                {
                    pos++;
                }

                Emit(output, ref previous, pos);
                continue;
            }

            pos = EmitWhitespace(cp, pos, end, output, ref previous, splitAtNewline: true);
        }
    }

    // \s*[\r\n]+ (when splitAtNewline), then \s+(?!\S), then \s+; a character nothing matches becomes its own piece.
    private static int EmitWhitespace(ReadOnlySpan<int> cp, int pos, int end, List<int> output, ref int previous, bool splitAtNewline)
    {
        var count = 0;
        var afterLastNewline = -1;
        while (pos + count < end && UnicodeClass.IsWhitespace(cp[pos + count]))
        {
            if (IsCrOrLf(cp[pos + count]))
            {
                afterLastNewline = pos + count + 1;
            }

            count++;
        }

        if (splitAtNewline && afterLastNewline >= 0)
        {
            pos = afterLastNewline;
        }
        else if (count > 1 && pos + count < end)
        {
            pos += count - 1;
        }
        else
        {
            pos += Math.Max(count, 1);
        }

        Emit(output, ref previous, pos);
        return pos;
    }

    // Maximal runs of characters in the class (numbers, or the "default" punctuation) and of characters not
    // in it (or, with single, every character of the class alone), as a regex X+ (or X) and the gaps between
    // its matches make.
    private static void SplitRuns(ReadOnlySpan<int> cp, int start, int end, List<int> output, bool numbers, bool single)
    {
        var previous = start;
        var pos = start;
        while (pos < end)
        {
            var member = InClass(cp[pos], numbers);
            pos++;
            if (!(member && single))
            {
                while (pos < end && InClass(cp[pos], numbers) == member)
                {
                    pos++;
                }
            }

            Emit(output, ref previous, pos);
        }
    }

    private static bool InClass(int c, bool numbers) => numbers ? UnicodeClass.IsNumber(c) : IsDefaultPunctuation(c);

    // Leftmost non-overlapping matches of [0-9][0-9][0-9], and the gaps between them.
    private static void SplitAsciiDigitTriples(ReadOnlySpan<int> cp, int start, int end, List<int> output)
    {
        var previous = start;
        var pos = start;
        while (pos + 3 <= end)
        {
            if (IsAsciiDigit(cp[pos]) && IsAsciiDigit(cp[pos + 1]) && IsAsciiDigit(cp[pos + 2]))
            {
                Emit(output, ref previous, pos);
                pos += 3;
                Emit(output, ref previous, pos);
            }
            else
            {
                pos++;
            }
        }

        Emit(output, ref previous, end);
    }
}
