namespace Kvasir.Model.ChatTemplates;

/// <summary>A pending <c>{% break %}</c> or <c>{% continue %}</c>, checked after every statement of a loop body.</summary>
internal enum LoopControl
{
    /// <summary>Keep going.</summary>
    None,

    /// <summary>Leave the innermost loop.</summary>
    Break,

    /// <summary>Go on with the next item of the innermost loop.</summary>
    Continue,
}
