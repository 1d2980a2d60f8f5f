namespace Kvasir.Model.ChatTemplates;

/// <summary>The argument expressions of a call, filter or test: positional, then <c>name=value</c>.</summary>
internal sealed class ArgumentList(Expression[] positional, KeyValuePair<string, Expression>[] named)
{
    /// <summary>No arguments.</summary>
    public static readonly ArgumentList None = new([], []);

    /// <summary>Evaluates the arguments.</summary>
    public CallArguments Evaluate(RenderContext context)
    {
        if (positional.Length == 0 && named.Length == 0)
            return CallArguments.Empty;
        var values = Expression.EvaluateAll(positional, context);
        List<KeyValuePair<string, object?>>? namedValues = null;
        if (named.Length > 0)
        {
            namedValues = new List<KeyValuePair<string, object?>>(named.Length);
            foreach (var pair in named)
                namedValues.Add(new KeyValuePair<string, object?>(pair.Key, pair.Value.Evaluate(context)));
        }
        return new CallArguments(values, namedValues);
    }
}

/// <summary><c>f(args)</c>: a global, a macro, or a method such as <c>content.split('x')</c>.</summary>
internal sealed class CallExpression(Expression callee, ArgumentList arguments, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
    {
        try
        {
            object? function;
            if (callee is AttributeExpression attribute)
            {
                // Methods are called directly, without making a bound-method object first.
                object? target = attribute.Target.Evaluate(context);
                var methodArgs = arguments.Evaluate(context);
                if (TemplateMethods.TryInvoke(target, attribute.Name, methodArgs, out object? result))
                    return result;
                function = TemplateAccess.GetAttribute(target, attribute.Name);
                return Invoke(function, context, methodArgs);
            }
            function = callee.Evaluate(context);
            return Invoke(function, context, arguments.Evaluate(context));
        }
        catch (TemplateRuntimeException e) when (e.Offset < 0)
        {
            throw e.At(Offset);
        }
    }

    private object? Invoke(object? function, RenderContext context, CallArguments args)
    {
        if (function is TemplateFunction f)
            return f.Invoke(context, args);
        string what = callee switch
        {
            NameExpression name => $"'{name.Name}'",
            AttributeExpression attribute => $"'{attribute.Name}'",
            _ => "the value",
        };
        throw new TemplateRuntimeException(function is Undefined
            ? $"{what} is undefined and cannot be called."
            : $"{what} is a '{TemplateValue.TypeName(function)}', which cannot be called.");
    }
}

/// <summary><c>value | name(args)</c></summary>
internal sealed class FilterExpression(Expression value, string name, FilterFunction filter, ArgumentList arguments, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
    {
        object? input = value.Evaluate(context);
        var args = arguments.Evaluate(context);
        try
        {
            return filter(context, input, args);
        }
        catch (TemplateRuntimeException e) when (e.Offset < 0)
        {
            throw new TemplateRuntimeException($"Filter '{name}': {e.Message}", Offset);
        }
    }
}

/// <summary><c>value is name(args)</c> and <c>value is not name(args)</c></summary>
internal sealed class TestExpression(Expression value, string name, TestFunction test, ArgumentList arguments, bool negated, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
    {
        object? input = value.Evaluate(context);
        var args = arguments.Evaluate(context);
        try
        {
            return test(input, args) != negated;
        }
        catch (TemplateRuntimeException e) when (e.Offset < 0)
        {
            throw new TemplateRuntimeException($"Test '{name}': {e.Message}", Offset);
        }
    }
}
