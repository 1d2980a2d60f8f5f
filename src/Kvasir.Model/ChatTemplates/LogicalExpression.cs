namespace Kvasir.Model.ChatTemplates;

/// <summary><c>a and b</c>, <c>a or b</c>: short-circuit, and the value is an operand, as in Python.</summary>
internal sealed class LogicalExpression(bool isAnd, Expression left, Expression right, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
    {
        object? a = left.Evaluate(context);
        return TemplateValue.IsTruthy(a) == isAnd ? right.Evaluate(context) : a;
    }
}
