namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// A render-time failure inside the interpreter. Helpers that do not know where they are throw it with
/// offset -1; the nearest expression or statement fills in its own offset, and <see cref="ChatTemplate.Render"/>
/// turns it into a <see cref="ChatTemplateException"/> with line, column and snippet.
/// </summary>
internal sealed class TemplateRuntimeException(string problem, int offset = -1) : Exception(problem)
{
    /// <summary>Offset in the template source, or -1 when not known yet.</summary>
    public int Offset { get; } = offset;

    /// <summary>The same problem placed at <paramref name="offset"/>.</summary>
    public TemplateRuntimeException At(int offset) => new(Message, offset);
}
