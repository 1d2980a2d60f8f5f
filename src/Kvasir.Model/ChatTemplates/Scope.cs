namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// Variables of one frame: the render's top level, a loop body, a macro call or a <c>with</c> block.
/// <c>{% set %}</c> writes to the innermost frame only, so a set inside a loop does not leak out, as in Jinja.
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

    /// <summary>The enclosing frame, or null for the top level.</summary>
    public Scope? Parent { get; } = parent;

    /// <summary>Looks the name up in this frame only.</summary>
    public bool TryGet(string name, out object? value) => _variables.TryGetValue(name, out value);

    /// <summary>Sets the name in this frame.</summary>
    public void Set(string name, object? value) => _variables[name] = value;

    /// <summary>Forgets every name of this frame (a loop body starts each item afresh).</summary>
    public void Clear() => _variables.Clear();
}
