using System.Runtime.CompilerServices;
using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// <c>{% macro name(a, b='x') %}...{% endmacro %}</c>: defines a function in the current frame. A call renders
/// the body in a new frame (whose parent is the frame the macro was defined in) and returns the text.
/// </summary>
internal sealed class MacroNode(string name, string[] parameters, Expression?[] defaults, TemplateNode[] body, int offset) : TemplateNode(offset)
{
    /// <inheritdoc/>
    public override void Render(RenderContext context)
    {
        var definingScope = context.Scope;
        context.Scope.Set(name, new TemplateFunction(name, (ctx, args) => Call(ctx, definingScope, args)));
    }

    private string Call(RenderContext context, Scope definingScope, CallArguments args)
    {
        if (args.Positional.Count > parameters.Length)
            throw new TemplateRuntimeException($"Macro '{name}' takes {parameters.Length} argument{(parameters.Length == 1 ? "" : "s")}, got {args.Positional.Count}.");
        if (args.Named is not null)
        {
            foreach (var pair in args.Named)
            {
                if (Array.IndexOf(parameters, pair.Key) < 0)
                    throw new TemplateRuntimeException($"Macro '{name}' has no parameter '{pair.Key}'.");
            }
        }
        if (context.CallDepth >= RenderContext.MaxCallDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new TemplateRuntimeException($"Macro calls nested deeper than {RenderContext.MaxCallDepth} (is '{name}' recursive without end?).");

        var savedScope = context.Scope;
        var savedOutput = context.Output;
        var frame = new Scope(definingScope);
        context.Scope = frame;
        context.Output = new StringBuilder();
        context.CallDepth++;
        try
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                // Defaults are evaluated at call time, in the macro's frame, as Jinja does.
                object? value = args.TryGet(i, parameters[i], out object? given) ? given
                    : defaults[i] is { } fallback ? fallback.Evaluate(context)
                    : Undefined.Instance;
                frame.Set(parameters[i], value);
            }
            RenderAll(body, context);
            return context.Output.ToString();
        }
        finally
        {
            context.CallDepth--;
            context.Scope = savedScope;
            context.Output = savedOutput;
            context.Control = LoopControl.None;
        }
    }
}
