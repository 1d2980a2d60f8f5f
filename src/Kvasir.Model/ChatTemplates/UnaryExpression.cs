namespace Kvasir.Model.ChatTemplates;

/// <summary><c>not a</c>, <c>-a</c>, <c>+a</c></summary>
internal sealed class UnaryExpression(char op, Expression operand, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
    {
        object? value = operand.Evaluate(context);
        try
        {
            return op switch
            {
                '!' => !TemplateValue.IsTruthy(value),
                '-' => TemplateOperators.Negate(value),
                _ => TemplateOperators.Plus(value),
            };
        }
        catch (TemplateRuntimeException e) when (e.Offset < 0)
        {
            throw e.At(Offset);
        }
    }
}
