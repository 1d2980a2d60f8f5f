namespace Kvasir.Model.ChatTemplates;

/// <summary>The operators of <see cref="BinaryExpression"/>.</summary>
internal enum BinaryOperator
{
    /// <summary><c>+</c></summary>
    Add,

    /// <summary><c>-</c></summary>
    Subtract,

    /// <summary><c>*</c></summary>
    Multiply,

    /// <summary><c>/</c></summary>
    Divide,

    /// <summary><c>//</c></summary>
    FloorDivide,

    /// <summary><c>%</c></summary>
    Modulo,

    /// <summary><c>**</c></summary>
    Power,

    /// <summary><c>~</c></summary>
    Concat,
}

/// <summary><c>a + b</c>, <c>a ~ b</c>, ...</summary>
internal sealed class BinaryExpression(BinaryOperator op, Expression left, Expression right, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
    {
        object? a = left.Evaluate(context);
        object? b = right.Evaluate(context);
        try
        {
            return op switch
            {
                BinaryOperator.Add => TemplateOperators.Add(a, b),
                BinaryOperator.Subtract => TemplateOperators.Subtract(a, b),
                BinaryOperator.Multiply => TemplateOperators.Multiply(a, b),
                BinaryOperator.Divide => TemplateOperators.Divide(a, b),
                BinaryOperator.FloorDivide => TemplateOperators.FloorDivide(a, b),
                BinaryOperator.Modulo => TemplateOperators.Modulo(a, b),
                BinaryOperator.Power => TemplateOperators.Power(a, b),
                _ => TemplateOperators.Concat(a, b),
            };
        }
        catch (TemplateRuntimeException e) when (e.Offset < 0)
        {
            throw e.At(Offset);
        }
    }
}
