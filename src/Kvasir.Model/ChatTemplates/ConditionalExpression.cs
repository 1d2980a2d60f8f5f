namespace Kvasir.Model.ChatTemplates;

/// <summary><c>a if condition else b</c>; without <c>else</c> the value is undefined when the condition is false.</summary>
internal sealed class ConditionalExpression(Expression condition, Expression then, Expression? otherwise, int offset) : Expression(offset)
{
    /// <inheritdoc/>
    public override object? Evaluate(RenderContext context)
        => TemplateValue.IsTruthy(condition.Evaluate(context)) ? then.Evaluate(context) : otherwise is null ? Undefined.Instance : otherwise.Evaluate(context);
}
