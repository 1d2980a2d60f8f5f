namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// A chat template could not be parsed or rendered, or it rejected the conversation through
/// <c>raise_exception</c>. <see cref="Kind"/> tells which; syntax and render errors carry the position in the
/// template and a snippet of the line with a caret under the column.
/// </summary>
public sealed class ChatTemplateException : Exception
{
    private const int SnippetWidth = 80;

    /// <summary>Creates the exception.</summary>
    /// <param name="kind">Why the template failed.</param>
    /// <param name="message">The whole message, position and snippet included.</param>
    /// <param name="line">1-based line in the template, or null.</param>
    /// <param name="column">1-based column in the template, or null.</param>
    public ChatTemplateException(ChatTemplateErrorKind kind, string message, int? line = null, int? column = null)
        : base(message)
    {
        Kind = kind;
        Line = line;
        Column = column;
    }

    /// <summary>Why the template failed.</summary>
    public ChatTemplateErrorKind Kind { get; }

    /// <summary>1-based line in the template source where the problem is, or null when unknown.</summary>
    public int? Line { get; }

    /// <summary>1-based column in the template source where the problem is, or null when unknown.</summary>
    public int? Column { get; }

    internal static ChatTemplateException AtOffset(ChatTemplateErrorKind kind, string source, int offset, string problem)
    {
        string what = kind == ChatTemplateErrorKind.Syntax ? "Chat template syntax error" : "Chat template error";
        if (offset < 0)
            return new ChatTemplateException(kind, $"{what}: {problem}");
        offset = Math.Min(offset, source.Length);
        int lineStart = source.LastIndexOf('\n', Math.Max(0, offset - 1)) + 1;
        if (offset == 0)
            lineStart = 0;
        int line = 1;
        for (int i = 0; i < lineStart; i++)
        {
            if (source[i] == '\n')
                line++;
        }
        int lineEnd = source.IndexOf('\n', lineStart);
        if (lineEnd < 0)
            lineEnd = source.Length;
        int column = offset - lineStart + 1;

        // Long one-line templates are common in GGUF files: show a window around the column.
        int from = lineStart;
        int to = lineEnd;
        if (to - from > SnippetWidth)
        {
            from = Math.Max(lineStart, offset - (SnippetWidth / 2));
            to = Math.Min(lineEnd, from + SnippetWidth);
        }
        string prefix = from > lineStart ? "..." : "";
        string suffix = to < lineEnd ? "..." : "";
        string snippet = prefix + source[from..to] + suffix;
        string caret = new string(' ', prefix.Length + (offset - from)) + "^";
        return new ChatTemplateException(kind, $"{what} at line {line}, column {column}: {problem}\n    {snippet}\n    {caret}", line, column);
    }
}
