namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// The value of a name, key or attribute that does not exist. Like Jinja's default <c>Undefined</c> it renders
/// as an empty string, is falsy and iterates as empty; unlike it, attribute and item access on it give
/// undefined again instead of failing (Jinja's <c>ChainableUndefined</c>), so <c>messages[0].role</c> on an
/// empty conversation is simply undefined. Arithmetic on it fails with a message that names the operator.
/// </summary>
internal sealed class Undefined
{
    /// <summary>The one undefined value.</summary>
    public static readonly Undefined Instance = new();

    private Undefined()
    {
    }

    /// <inheritdoc/>
    public override string ToString() => "";
}
