namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// <c>{% for x in xs if cond %}...{% else %}...{% endfor %}</c>. The items are taken once (a snapshot, so a
/// body that appends to the list does not loop forever), the <c>if</c> filter runs first so <c>loop.length</c>
/// and <c>loop.last</c> count only the items that pass, and the body runs in a frame of its own that is
/// cleared for each item, so sets in the body do not leak out (use a <c>namespace</c> for that).
/// </summary>
internal sealed class ForNode(string[] targets, Expression iterable, Expression? filter, TemplateNode[] body, TemplateNode[]? otherwise, int offset)
    : TemplateNode(offset)
{
    /// <inheritdoc/>
    public override void Render(RenderContext context)
    {
        var items = TemplateValue.ToList(iterable.Evaluate(context));
        var saved = context.Scope;
        var frame = new Scope(saved);
        context.Scope = frame;
        try
        {
            if (filter is not null)
                items = Filter(items, context, frame);

            var loop = new LoopContext(items);
            for (int i = 0; i < items.Count; i++)
            {
                if (++context.LoopIterations > RenderContext.MaxLoopIterations)
                    throw new TemplateRuntimeException($"The template ran more than {RenderContext.MaxLoopIterations} loop iterations.", Offset);
                frame.Clear();
                Assign(context, targets, items[i]);
                loop.Index0 = i;
                frame.Set("loop", loop);
                RenderAll(body, context);
                if (context.Control == LoopControl.Break)
                {
                    context.Control = LoopControl.None;
                    break;
                }
                context.Control = LoopControl.None;
            }
        }
        finally
        {
            context.Scope = saved;
        }

        if (items.Count == 0 && otherwise is not null)
            RenderAll(otherwise, context);
    }

    private List<object?> Filter(List<object?> items, RenderContext context, Scope frame)
    {
        var kept = new List<object?>(items.Count);
        foreach (object? item in items)
        {
            frame.Clear();
            Assign(context, targets, item);
            if (TemplateValue.IsTruthy(filter!.Evaluate(context)))
                kept.Add(item);
        }
        return kept;
    }
}
