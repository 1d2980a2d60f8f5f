namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// The object <c>namespace(...)</c> makes: the one value whose attributes <c>{% set ns.x = ... %}</c> may
/// assign, which is how templates carry state out of a loop body.
/// </summary>
internal sealed class TemplateNamespace
{
    /// <summary>The attributes, in the order they were first set.</summary>
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}
