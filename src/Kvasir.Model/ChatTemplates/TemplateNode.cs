using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// A statement of a parsed template: text, <c>{{ expr }}</c> or a tag. This file holds the base and the small
/// statements; <c>{% for %}</c> is <see cref="ForNode"/> and <c>{% macro %}</c> is <see cref="MacroNode"/>.
/// </summary>
internal abstract class TemplateNode(int offset)
{
    /// <summary>Where the statement starts in the source, for error messages.</summary>
    public int Offset { get; } = offset;

    /// <summary>Writes the statement's output and applies its effects.</summary>
    public abstract void Render(RenderContext context);

    /// <summary>Renders statements in order, stopping early for a pending break or continue.</summary>
    public static void RenderAll(TemplateNode[] nodes, RenderContext context)
    {
        foreach (var node in nodes)
        {
            try
            {
                node.Render(context);
            }
            catch (TemplateRuntimeException e) when (e.Offset < 0)
            {
                throw e.At(node.Offset);
            }
            if (context.Control != LoopControl.None)
                return;
        }
    }

    /// <summary>Assigns a value to one name or unpacks it over several, in the innermost frame.</summary>
    public static void Assign(RenderContext context, string[] names, object? value)
    {
        if (names.Length == 1)
        {
            context.Scope.Set(names[0], value);
            return;
        }
        var items = TemplateValue.AsReadOnlyList(value);
        if (items.Count != names.Length)
            throw new TemplateRuntimeException($"Cannot unpack {items.Count} value{(items.Count == 1 ? "" : "s")} into {names.Length} names ({string.Join(", ", names)}).");
        for (int i = 0; i < names.Length; i++)
            context.Scope.Set(names[i], items[i]);
    }
}

/// <summary>Literal text.</summary>
internal sealed class TextNode(string text, int offset) : TemplateNode(offset)
{
    /// <summary>The text, whitespace control already applied.</summary>
    public string Text { get; } = text;

    /// <inheritdoc/>
    public override void Render(RenderContext context) => context.Output.Append(Text);
}

/// <summary><c>{{ expr }}</c></summary>
internal sealed class OutputNode(Expression expression, int offset) : TemplateNode(offset)
{
    /// <inheritdoc/>
    public override void Render(RenderContext context) => TemplateValue.AppendTo(context.Output, expression.Evaluate(context));
}

/// <summary><c>{% if %}</c> with its <c>elif</c> branches and <c>else</c>.</summary>
internal sealed class IfNode(Expression[] conditions, TemplateNode[][] branches, TemplateNode[]? otherwise, int offset) : TemplateNode(offset)
{
    /// <inheritdoc/>
    public override void Render(RenderContext context)
    {
        for (int i = 0; i < conditions.Length; i++)
        {
            if (TemplateValue.IsTruthy(conditions[i].Evaluate(context)))
            {
                RenderAll(branches[i], context);
                return;
            }
        }
        if (otherwise is not null)
            RenderAll(otherwise, context);
    }
}

/// <summary><c>{% set x = expr %}</c>, <c>{% set a, b = expr %}</c> and <c>{% set ns.attr = expr %}</c>.</summary>
internal sealed class SetNode(string[] names, string? attribute, Expression value, int offset) : TemplateNode(offset)
{
    /// <inheritdoc/>
    public override void Render(RenderContext context)
    {
        object? v = value.Evaluate(context);
        if (attribute is null)
        {
            Assign(context, names, v);
            return;
        }
        if (context.Lookup(names[0]) is not TemplateNamespace ns)
            throw new TemplateRuntimeException($"Cannot set '{names[0]}.{attribute}': '{names[0]}' is not a namespace(); only namespace attributes can be assigned.", Offset);
        ns.Attributes[attribute] = v;
    }
}

/// <summary><c>{% set x %}...{% endset %}</c>: the rendered body as a string.</summary>
internal sealed class BlockSetNode(string name, TemplateNode[] body, int offset) : TemplateNode(offset)
{
    /// <inheritdoc/>
    public override void Render(RenderContext context)
    {
        var saved = context.Output;
        context.Output = new StringBuilder();
        try
        {
            RenderAll(body, context);
            context.Scope.Set(name, context.Output.ToString());
        }
        finally
        {
            context.Output = saved;
        }
    }
}

/// <summary><c>{% break %}</c> and <c>{% continue %}</c></summary>
internal sealed class LoopControlNode(LoopControl control, int offset) : TemplateNode(offset)
{
    /// <inheritdoc/>
    public override void Render(RenderContext context) => context.Control = control;
}

/// <summary><c>{% do expr %}</c>: evaluates for the effect (such as <c>list.append</c>) and outputs nothing.</summary>
internal sealed class DoNode(Expression expression, int offset) : TemplateNode(offset)
{
    /// <inheritdoc/>
    public override void Render(RenderContext context) => expression.Evaluate(context);
}

/// <summary>
/// A body in a frame of its own: <c>{% with a = 1 %}...{% endwith %}</c>. With no names it is also
/// <c>{% generation %}...{% endgeneration %}</c>, which only marks the assistant's text for training masks.
/// </summary>
internal sealed class ScopeNode(string[] names, Expression[] values, TemplateNode[] body, bool newFrame, int offset) : TemplateNode(offset)
{
    /// <inheritdoc/>
    public override void Render(RenderContext context)
    {
        if (!newFrame)
        {
            RenderAll(body, context);
            return;
        }
        var saved = context.Scope;
        var frame = new Scope(saved);
        for (int i = 0; i < names.Length; i++)
            frame.Set(names[i], values[i].Evaluate(context));
        context.Scope = frame;
        try
        {
            RenderAll(body, context);
        }
        finally
        {
            context.Scope = saved;
        }
    }
}
