using System.Globalization;
using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// Splits a template into text and tag tokens the way Jinja's lexer does with the settings Hugging Face's
/// <c>apply_chat_template</c> uses: <c>trim_blocks</c> and <c>lstrip_blocks</c> on, no trailing newline kept.
/// </summary>
/// <remarks>
/// Whitespace control is applied here, so the parser only sees the text that is output:
/// <code>
/// {%- / {{- / {#-    strip all whitespace before the tag
/// -%} / -}} / -#}    strip all whitespace after the tag
/// %} #}              trim_blocks: drop the one newline right after a block or comment tag
/// {% {#              lstrip_blocks: drop spaces and tabs between the start of the line and the tag
/// {%+  +%}           turn lstrip_blocks / trim_blocks off for this tag
/// </code>
/// A tag ends at its closer only outside brackets, so <c>{{ {'a': {'b': 1}} }}</c> lexes as Jinja's does.
/// </remarks>
internal static class TemplateLexer
{
    private enum Trim
    {
        None,
        Newline,
        All,
    }

    private static readonly string[] TwoCharOperators = ["//", "**", "==", "!=", "<=", ">="];
    private const string OneCharOperators = "+-*/%~()[]{},.:|=<>;";

    /// <summary>Makes newlines "\n" and drops one trailing newline, as Jinja does before lexing.</summary>
    public static string Normalize(string source)
    {
        string s = source.Contains('\r', StringComparison.Ordinal) ? source.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n') : source;
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    /// <summary>Tokenizes a source that went through <see cref="Normalize"/>; the last token is <see cref="TemplateTokenKind.End"/>.</summary>
    /// <exception cref="ChatTemplateException">An unclosed tag, comment or string, or a character that starts no token.</exception>
    public static List<TemplateToken> Tokenize(string source)
    {
        var tokens = new List<TemplateToken>();
        int pos = 0;
        var pending = Trim.None;
        bool atTemplateStart = true;
        while (pos <= source.Length)
        {
            int open = FindTagStart(source, pos);
            int textEnd = open < 0 ? source.Length : open;
            string text = source[pos..textEnd];
            bool lineStarting = atTemplateStart;
            text = ApplyTrimAfterTag(text, pending, ref lineStarting);
            atTemplateStart = false;
            if (open < 0)
            {
                AddText(tokens, text, pos);
                break;
            }

            char kind = source[open + 1];
            char modifier = open + 2 < source.Length ? source[open + 2] : '\0';
            if (modifier == '-')
            {
                text = text.TrimEnd();
            }
            else if (kind != '{' && modifier != '+')
            {
                // lstrip_blocks: only whitespace between the line start and the tag goes.
                int lineStart = text.LastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && IsBlank(text.AsSpan(lineStart)))
                    text = text[..lineStart];
            }
            AddText(tokens, text, pos);

            int inner = open + 2 + (modifier is '-' or '+' ? 1 : 0);
            switch (kind)
            {
                case '#':
                    pos = SkipComment(source, open, inner, out pending);
                    break;
                case '%':
                    if (TryLexRaw(source, open, inner, tokens, out int afterRaw, out pending))
                    {
                        pos = afterRaw;
                        break;
                    }
                    tokens.Add(new TemplateToken(TemplateTokenKind.BlockBegin, "{%", open));
                    pos = LexTag(source, open, inner, isBlock: true, tokens, out pending);
                    break;
                default:
                    tokens.Add(new TemplateToken(TemplateTokenKind.VariableBegin, "{{", open));
                    pos = LexTag(source, open, inner, isBlock: false, tokens, out pending);
                    break;
            }
        }
        tokens.Add(new TemplateToken(TemplateTokenKind.End, "", source.Length));
        return tokens;
    }

    private static int FindTagStart(string source, int from)
    {
        int i = from;
        while (true)
        {
            i = source.IndexOf('{', i);
            if (i < 0 || i + 1 >= source.Length)
                return -1;
            char next = source[i + 1];
            if (next is '{' or '%' or '#')
                return i;
            i++;
        }
    }

    private static string ApplyTrimAfterTag(string text, Trim pending, ref bool lineStarting)
    {
        switch (pending)
        {
            case Trim.Newline:
                if (text.StartsWith('\n'))
                {
                    lineStarting = true;
                    return text[1..];
                }
                return text;
            case Trim.All:
                string trimmed = text.TrimStart();
                int consumed = text.Length - trimmed.Length;
                lineStarting = consumed > 0 && text[consumed - 1] == '\n';
                return trimmed;
            default:
                return text;
        }
    }

    private static bool IsBlank(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!char.IsWhiteSpace(c))
                return false;
        }
        return true;
    }

    private static void AddText(List<TemplateToken> tokens, string text, int offset)
    {
        if (text.Length > 0)
            tokens.Add(new TemplateToken(TemplateTokenKind.Text, text, offset));
    }

    private static int SkipComment(string source, int open, int inner, out Trim pending)
    {
        int close = source.IndexOf("#}", inner, StringComparison.Ordinal);
        if (close < 0)
            throw Error(source, open, "This comment is never closed; add '#}'.");
        char before = close > inner ? source[close - 1] : '\0';
        pending = before switch { '-' => Trim.All, '+' => Trim.None, _ => Trim.Newline };
        return close + 2;
    }

    // {% raw %}...{% endraw %}: the text in between is output as it is.
    private static bool TryLexRaw(string source, int open, int inner, List<TemplateToken> tokens, out int after, out Trim pending)
    {
        after = 0;
        pending = Trim.None;
        int p = SkipSpaces(source, inner);
        if (!MatchesWord(source, p, "raw"))
            return false;
        p = SkipSpaces(source, p + 3);
        int tagEnd = MatchTagEnd(source, p, isBlock: true, out var rawPending);
        if (tagEnd < 0)
            return false;

        int search = tagEnd;
        while (true)
        {
            int candidate = source.IndexOf("{%", search, StringComparison.Ordinal);
            if (candidate < 0)
                throw Error(source, open, "This 'raw' block is never closed; add '{% endraw %}'.");
            int q = candidate + 2;
            bool stripBefore = q < source.Length && source[q] == '-';
            if (q < source.Length && source[q] is '-' or '+')
                q++;
            q = SkipSpaces(source, q);
            if (MatchesWord(source, q, "endraw"))
            {
                int endTagEnd = MatchTagEnd(source, SkipSpaces(source, q + 6), isBlock: true, out pending);
                if (endTagEnd >= 0)
                {
                    // Jinja applies '-%}' after "raw" but not trim_blocks.
                    bool lineStarting = false;
                    string text = ApplyTrimAfterTag(source[tagEnd..candidate], rawPending == Trim.All ? Trim.All : Trim.None, ref lineStarting);
                    if (stripBefore)
                        text = text.TrimEnd();
                    AddText(tokens, text, tagEnd);
                    after = endTagEnd;
                    return true;
                }
            }
            search = candidate + 2;
        }
    }

    private static bool MatchesWord(string source, int p, string word)
        => string.CompareOrdinal(source, p, word, 0, word.Length) == 0
           && (p + word.Length >= source.Length || !IsNameChar(source[p + word.Length]));

    private static int SkipSpaces(string source, int p)
    {
        while (p < source.Length && char.IsWhiteSpace(source[p]))
            p++;
        return p;
    }

    // Returns the offset after the closer at p ("-%}", "+%}", "%}" or "-}}", "}}"), or -1 when there is none.
    private static int MatchTagEnd(string source, int p, bool isBlock, out Trim pending)
    {
        pending = Trim.None;
        string closer = isBlock ? "%}" : "}}";
        if (string.CompareOrdinal(source, p, closer, 0, 2) == 0)
        {
            pending = isBlock ? Trim.Newline : Trim.None;
            return p + 2;
        }
        if (p < source.Length && source[p] is '-' or '+' && string.CompareOrdinal(source, p + 1, closer, 0, 2) == 0)
        {
            if (source[p] == '+' && !isBlock)
                return -1;
            pending = source[p] == '-' ? Trim.All : Trim.None;
            return p + 3;
        }
        return -1;
    }

    private static int LexTag(string source, int open, int p, bool isBlock, List<TemplateToken> tokens, out Trim pending)
    {
        int depth = 0;
        while (true)
        {
            p = SkipSpaces(source, p);
            if (p >= source.Length)
                throw Error(source, open, isBlock ? "This tag is never closed; add '%}'." : "This expression is never closed; add '}}'.");
            if (depth == 0)
            {
                int end = MatchTagEnd(source, p, isBlock, out pending);
                if (end >= 0)
                {
                    tokens.Add(new TemplateToken(isBlock ? TemplateTokenKind.BlockEnd : TemplateTokenKind.VariableEnd, isBlock ? "%}" : "}}", p));
                    return end;
                }
            }

            char c = source[p];
            if (char.IsLetter(c) || c == '_')
            {
                int start = p;
                while (p < source.Length && IsNameChar(source[p]))
                    p++;
                tokens.Add(new TemplateToken(TemplateTokenKind.Name, source[start..p], start));
            }
            else if (char.IsAsciiDigit(c))
            {
                p = LexNumber(source, p, tokens);
            }
            else if (c is '\'' or '"')
            {
                p = LexString(source, p, tokens);
            }
            else
            {
                string? op = null;
                foreach (string two in TwoCharOperators)
                {
                    if (string.CompareOrdinal(source, p, two, 0, 2) == 0)
                    {
                        op = two;
                        break;
                    }
                }
                if (op is null && OneCharOperators.Contains(c, StringComparison.Ordinal))
                    op = c.ToString();
                if (op is null)
                    throw Error(source, p, $"Unexpected character '{c}' inside a tag.");
                if (op is "(" or "[" or "{")
                    depth++;
                else if (op is ")" or "]" or "}" && depth > 0)
                    depth--;
                tokens.Add(new TemplateToken(TemplateTokenKind.Operator, op, p));
                p += op.Length;
            }
        }
    }

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    private static int LexNumber(string source, int p, List<TemplateToken> tokens)
    {
        int start = p;
        p = SkipDigits(source, p);
        bool isFloat = false;
        if (p + 1 < source.Length && source[p] == '.' && char.IsAsciiDigit(source[p + 1]))
        {
            isFloat = true;
            p = SkipDigits(source, p + 1);
        }
        if (p < source.Length && source[p] is 'e' or 'E')
        {
            int q = p + 1;
            if (q < source.Length && source[q] is '+' or '-')
                q++;
            if (q < source.Length && char.IsAsciiDigit(source[q]))
            {
                isFloat = true;
                p = SkipDigits(source, q);
            }
        }
        string text = source[start..p].Replace("_", "", StringComparison.Ordinal);
        tokens.Add(new TemplateToken(isFloat ? TemplateTokenKind.Float : TemplateTokenKind.Integer, text, start));
        return p;
    }

    private static int SkipDigits(string source, int p)
    {
        while (p < source.Length && (char.IsAsciiDigit(source[p]) || (source[p] == '_' && p + 1 < source.Length && char.IsAsciiDigit(source[p + 1]))))
            p++;
        return p;
    }

    // Python string literal escapes, as Jinja's "unicode-escape" decoding gives them.
    private static int LexString(string source, int p, List<TemplateToken> tokens)
    {
        char quote = source[p];
        int start = p;
        var sb = new StringBuilder();
        p++;
        while (true)
        {
            if (p >= source.Length)
                throw Error(source, start, "This string is never closed.");
            char c = source[p];
            if (c == quote)
            {
                p++;
                break;
            }
            if (c != '\\' || p + 1 >= source.Length)
            {
                sb.Append(c);
                p++;
                continue;
            }
            char e = source[p + 1];
            p += 2;
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '\n': break;
                case 'x': p = AppendHex(source, p, 2, sb, start); break;
                case 'u': p = AppendHex(source, p, 4, sb, start); break;
                case 'U': p = AppendHex(source, p, 8, sb, start); break;
                case >= '0' and <= '7':
                    int value = e - '0';
                    for (int k = 0; k < 2 && p < source.Length && source[p] is >= '0' and <= '7'; k++)
                        value = (value * 8) + (source[p++] - '0');
                    sb.Append((char)value);
                    break;
                default:
                    // Python keeps unknown escapes as they are.
                    sb.Append('\\').Append(e);
                    break;
            }
        }
        tokens.Add(new TemplateToken(TemplateTokenKind.String, sb.ToString(), start));
        return p;
    }

    private static int AppendHex(string source, int p, int digits, StringBuilder sb, int stringStart)
    {
        if (p + digits > source.Length
            || !int.TryParse(source.AsSpan(p, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value)
            || (digits == 8 && !Rune.IsValid(value)))
            throw Error(source, stringStart, $"Bad \\x, \\u or \\U escape in this string: expected {digits} hex digits.");
        // \uD83D\uDE00 (a surrogate pair written as two escapes) must stay two UTF-16 units.
        if (digits == 8)
            sb.Append(char.ConvertFromUtf32(value));
        else
            sb.Append((char)value);
        return p + digits;
    }

    private static ChatTemplateException Error(string source, int offset, string problem)
        => ChatTemplateException.AtOffset(ChatTemplateErrorKind.Syntax, source, offset, problem);
}
