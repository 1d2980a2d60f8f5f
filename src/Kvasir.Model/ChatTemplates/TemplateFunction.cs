namespace Kvasir.Model.ChatTemplates;

/// <summary>What a <see cref="TemplateFunction"/> runs.</summary>
internal delegate object? TemplateFunctionBody(RenderContext context, CallArguments arguments);

/// <summary>A callable value: a global such as <c>range</c>, a macro, or a bound method such as <c>d.items</c>.</summary>
internal sealed class TemplateFunction(string name, TemplateFunctionBody body)
{
    /// <summary>The name shown in error messages.</summary>
    public string Name { get; } = name;

    /// <summary>Calls the function.</summary>
    public object? Invoke(RenderContext context, CallArguments arguments) => body(context, arguments);

    /// <inheritdoc/>
    public override string ToString() => $"<function {Name}>";
}
