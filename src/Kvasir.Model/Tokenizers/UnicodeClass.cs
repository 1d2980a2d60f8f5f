using System.Globalization;

namespace Kvasir.Model.Tokenizers;

/// <summary>
/// The character classes the pre-tokenizers test, defined as llama.cpp defines them: letter = \p{L},
/// number = \p{N}, punctuation = \p{P}, whitespace = the Unicode White_Space property (what Python's regex
/// module matches with \s, from which llama.cpp generates its table).
/// </summary>
internal static class UnicodeClass
{
    public const byte Letter = 1;
    public const byte Number = 2;
    public const byte Whitespace = 4;
    public const byte Punctuation = 8;

    // One byte of flags per BMP code point (64 KiB); astral code points are classified on the fly.
    private static readonly byte[] Bmp = BuildBmp();

    public static byte Of(int codepoint) => (uint)codepoint < 0x10000 ? Bmp[codepoint] : Classify(codepoint);

    public static bool IsLetter(int codepoint) => (Of(codepoint) & Letter) != 0;

    public static bool IsNumber(int codepoint) => (Of(codepoint) & Number) != 0;

    public static bool IsWhitespace(int codepoint) => (Of(codepoint) & Whitespace) != 0;

    private static byte[] BuildBmp()
    {
        var table = new byte[0x10000];
        for (var cp = 0; cp < table.Length; cp++)
        {
            table[cp] = Classify(cp);
        }

        return table;
    }

    private static byte Classify(int codepoint)
    {
        if ((uint)codepoint > 0x10FFFF)
        {
            return 0;
        }

        if (IsWhiteSpaceProperty(codepoint))
        {
            return Whitespace;
        }

        return CharUnicodeInfo.GetUnicodeCategory(codepoint) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => Punctuation,
            _ => 0,
        };
    }

    private static bool IsWhiteSpaceProperty(int cp) =>
        cp is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;
}
