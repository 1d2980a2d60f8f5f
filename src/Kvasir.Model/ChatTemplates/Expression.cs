namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// A node of an expression tree. Evaluation is a virtual call per node over boxed values: a few hundred
/// nodes per message, so a render costs microseconds, far below one decode step.
/// </summary>
/// <remarks>
/// This file holds the base and the leaf, container and access expressions; each operator kind has its
/// own file (<see cref="BinaryExpression"/>, <see cref="CompareExpression"/>, ...), and calls, filters and
/// tests are in <c>CallExpression.cs</c>.
/// </remarks>
internal abstract class Expression(int offset)
{
    /// <summary>Where the expression starts in the source, for error messages.</summary>
    public int Offset { get; } = offset;

    /// <summary>Computes the value.</summary>
    public abstract object? Evaluate(RenderContext context);

    /// <summary>Evaluates a list of expressions into a new list.</summary>
    public static List<object?> EvaluateAll(Expression[] expressions, RenderContext context)
    {
        var values = new List<object?>(expressions.Length);
        foreach (var e in expressions)
            values.Add(e.Evaluate(context));
        return values;
    }
}

/// <summary>A literal: string, number, boolean or none. Lists and dicts are not literals because they are mutable.</summary>
internal sealed class LiteralExpression(object? value, int offset) : Expression(offset)
{
    /// <summary>The constant.</summary>
    public object? Value { get; } = value;

    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context) => Value;
}

/// <summary>A variable reference.</summary>
internal sealed class NameExpression(string name, int offset) : Expression(offset)
{
    /// <summary>The variable name.</summary>
    public string Name { get; } = name;

    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context) => context.Lookup(Name);
}

/// <summary><c>[a, b, c]</c></summary>
internal sealed class ListExpression(Expression[] items, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context) => EvaluateAll(items, context);
}

/// <summary><c>(a, b)</c> or <c>a, b</c></summary>
internal sealed class TupleExpression(Expression[] items, int offset) : Expression(offset)
{
    /// <summary>The item expressions (also the targets of <c>for a, b in</c> style unpacking).</summary>
    public Expression[] Items { get; } = items;

    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
    {
        var values = new object?[Items.Length];
        for (int i = 0; i < values.Length; i++)
            values[i] = Items[i].Evaluate(context);
        return values;
    }
}

/// <summary><c>{'a': 1, 'b': x}</c>; keys must be strings (numbers are turned into their text).</summary>
internal sealed class DictExpression(Expression[] keys, Expression[] values, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
    {
        var dict = new Dictionary<string, object?>(keys.Length, StringComparer.Ordinal);
        for (int i = 0; i < keys.Length; i++)
        {
            object? key = keys[i].Evaluate(context);
            if (key is not string && !TemplateValue.IsNumber(key))
                throw new TemplateRuntimeException($"Dict keys must be strings here, not '{TemplateValue.TypeName(key)}'.", keys[i].Offset);
            dict[TemplateValue.ToStr(key)] = values[i].Evaluate(context);
        }
        return dict;
    }
}

/// <summary><c>target.name</c></summary>
internal sealed class AttributeExpression(Expression target, string name, int offset) : Expression(offset)
{
    /// <summary>The object.</summary>
    public Expression Target { get; } = target;

    /// <summary>The attribute name.</summary>
    public string Name { get; } = name;

    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context) => TemplateAccess.GetAttribute(Target.Evaluate(context), Name);
}

/// <summary><c>target[key]</c></summary>
internal sealed class SubscriptExpression(Expression target, Expression key, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context) => TemplateAccess.GetItem(target.Evaluate(context), key.Evaluate(context));
}

/// <summary><c>target[start:stop:step]</c>; a missing part is null.</summary>
internal sealed class SliceExpression(Expression target, Expression? start, Expression? stop, Expression? step, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
    {
        object? value = target.Evaluate(context);
        try
        {
            return TemplateAccess.Slice(value, start?.Evaluate(context), stop?.Evaluate(context), step?.Evaluate(context));
        }
        catch (TemplateRuntimeException e) when (e.Offset < 0)
        {
            throw e.At(Offset);
        }
    }
}
