using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>The state of one render: where output goes, the current frame, the clock and a pending loop control.</summary>
internal sealed class RenderContext(StringBuilder output, Scope scope, TimeProvider clock)
{
    /// <summary>How deep macros may call each other before the render fails instead of overflowing the stack.</summary>
    public const int MaxCallDepth = 64;

    /// <summary>
    /// How many loop iterations one render may run in all. Real templates run a few per message; this only stops
    /// a broken or hostile template (nested range loops) from holding a request thread for minutes.
    /// </summary>
    public const int MaxLoopIterations = 1_000_000;

    /// <summary>Where text goes; a macro call swaps in its own builder.</summary>
    public StringBuilder Output { get; set; } = output;

    /// <summary>The innermost frame.</summary>
    public Scope Scope { get; set; } = scope;

    /// <summary>The clock <c>strftime_now</c> reads.</summary>
    public TimeProvider Clock { get; } = clock;

    /// <summary>A break or continue on its way to the innermost loop.</summary>
    public LoopControl Control { get; set; }

    /// <summary>Loop iterations run so far in this render.</summary>
    public int LoopIterations { get; set; }

    /// <summary>How many macro calls are active.</summary>
    public int CallDepth { get; set; }

    /// <summary>Resolves a name: innermost frame outwards, then the globals, else undefined.</summary>
    public object? Lookup(string name)
    {
        for (var s = Scope; s is not null; s = s.Parent)
        {
            if (s.TryGet(name, out object? value))
                return value;
        }
        return TemplateGlobals.TryGet(name, out object? global) ? global : Undefined.Instance;
    }
}
