namespace Kvasir.Model.ChatTemplates;

/// <summary>The <c>loop</c> variable inside a <c>{% for %}</c> body.</summary>
internal sealed class LoopContext(List<object?> items)
{
    /// <summary>0-based index of the current item.</summary>
    public int Index0 { get; set; }

    /// <summary>Number of items (after the loop's <c>if</c> filter).</summary>
    public int Length => items.Count;

    /// <summary>Reads <c>loop.name</c>; unknown names are undefined.</summary>
    public object? GetAttribute(string name) => name switch
    {
        "index" => (long)(Index0 + 1),
        "index0" => (long)Index0,
        "revindex" => (long)(Length - Index0),
        "revindex0" => (long)(Length - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == Length - 1,
        "length" => (long)Length,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : Undefined.Instance,
        "nextitem" => Index0 < Length - 1 ? items[Index0 + 1] : Undefined.Instance,
        "depth" => 1L,      // only recursive loops (not supported) go deeper
        "depth0" => 0L,
        "cycle" => TemplateMethods.Bind(this, "cycle"),
        _ => Undefined.Instance,
    };

    /// <summary><c>loop.cycle(a, b, ...)</c>: the argument at the current index modulo their count.</summary>
    public object? Cycle(List<object?> values)
        => values.Count == 0 ? throw new TemplateRuntimeException("loop.cycle() needs at least one value.") : values[Index0 % values.Count];
}
