namespace Kvasir.Model.ChatTemplates;

/// <summary>The operators of <see cref="CompareExpression"/>.</summary>
internal enum CompareOperator
{
    /// <summary><c>==</c></summary>
    Equal,

    /// <summary><c>!=</c></summary>
    NotEqual,

    /// <summary><c>&lt;</c></summary>
    Less,

    /// <summary><c>&lt;=</c></summary>
    LessOrEqual,

    /// <summary><c>&gt;</c></summary>
    Greater,

    /// <summary><c>&gt;=</c></summary>
    GreaterOrEqual,

    /// <summary><c>in</c></summary>
    In,

    /// <summary><c>not in</c></summary>
    NotIn,
}

/// <summary><c>a == b</c>, <c>a &lt; b &lt; c</c> (chained as in Python), <c>a in b</c>, <c>a not in b</c>.</summary>
internal sealed class CompareExpression(Expression first, CompareOperator[] operators, Expression[] operands, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
    {
        object? left = first.Evaluate(context);
        for (int i = 0; i < operators.Length; i++)
        {
            object? right = operands[i].Evaluate(context);
            if (!Test(operators[i], left, right))
                return false;
            left = right;
        }
        return true;
    }

    private bool Test(CompareOperator op, object? a, object? b)
    {
        try
        {
            switch (op)
            {
                case CompareOperator.Equal: return TemplateValue.AreEqual(a, b);
                case CompareOperator.NotEqual: return !TemplateValue.AreEqual(a, b);
                case CompareOperator.In: return TemplateOperators.Contains(b, a);
                case CompareOperator.NotIn: return !TemplateOperators.Contains(b, a);
            }
        }
        catch (TemplateRuntimeException e) when (e.Offset < 0)
        {
            throw e.At(Offset);
        }
        int c = TemplateValue.Compare(a, b) ?? throw new TemplateRuntimeException(
            $"'{Symbol(op)}' not supported between '{TemplateValue.TypeName(a)}' and '{TemplateValue.TypeName(b)}'"
            + (a is Undefined || b is Undefined ? " (a variable, key or attribute is undefined)." : "."), Offset);
        return op switch
        {
            CompareOperator.Less => c < 0,
            CompareOperator.LessOrEqual => c <= 0,
            CompareOperator.Greater => c > 0,
            _ => c >= 0,
        };
    }

    private static string Symbol(CompareOperator op) => op switch
    {
        CompareOperator.Less => "<",
        CompareOperator.LessOrEqual => "<=",
        CompareOperator.Greater => ">",
        _ => ">=",
    };
}
