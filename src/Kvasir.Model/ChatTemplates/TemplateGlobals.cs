namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// The functions every template can call: Jinja's <c>range</c>, <c>namespace</c> and <c>dict</c>, and the
/// two Hugging Face adds for chat templates, <c>raise_exception</c> and <c>strftime_now</c>.
/// </summary>
internal static class TemplateGlobals
{
    /// <summary>The most items <c>range</c> makes; a template that needs more is broken or hostile.</summary>
    public const int MaxRangeLength = 100_000;

    /// <summary>The message prefix of a <see cref="ChatTemplateErrorKind.Rejected"/> error.</summary>
    public const string RejectionPrefix = "The chat template rejected the conversation: ";

    private static readonly Dictionary<string, object?> Functions = new(StringComparer.Ordinal)
    {
        ["range"] = new TemplateFunction("range", Range),
        ["namespace"] = new TemplateFunction("namespace", Namespace),
        ["dict"] = new TemplateFunction("dict", Dict),
        ["raise_exception"] = new TemplateFunction("raise_exception", RaiseException),
        ["strftime_now"] = new TemplateFunction("strftime_now", StrftimeNow),
    };

    /// <summary>Looks up a global function.</summary>
    public static bool TryGet(string name, out object? value) => Functions.TryGetValue(name, out value);

    private static object? Range(RenderContext context, CallArguments args)
    {
        var p = args.Positional;
        if (p.Count is 0 or > 3)
            throw new TemplateRuntimeException($"range expected 1 to 3 arguments, got {p.Count}.");
        long start = p.Count == 1 ? 0 : TemplateValue.AsLong(p[0]);
        long stop = TemplateValue.AsLong(p.Count == 1 ? p[0] : p[1]);
        long step = p.Count == 3 ? TemplateValue.AsLong(p[2]) : 1;
        if (step == 0)
            throw new TemplateRuntimeException("range() arg 3 must not be zero.");
        // In floating point so that range(-9e18, 9e18) is "too long" rather than an overflow.
        double span = step > 0 ? ((double)stop - start) / step : ((double)start - stop) / -step;
        double count = Math.Max(0, Math.Ceiling(span));
        if (count > MaxRangeLength)
            throw new TemplateRuntimeException($"range() of {count} items is more than the {MaxRangeLength} a chat template may make.");
        var items = new List<object?>((int)count);
        for (long i = 0; i < (long)count; i++)
            items.Add(start + (i * step));
        return items;
    }

    private static object? Namespace(RenderContext context, CallArguments args)
    {
        var ns = new TemplateNamespace();
        foreach (object? initial in args.Positional)
        {
            if (initial is not Dictionary<string, object?> dict)
                throw new TemplateRuntimeException($"namespace() takes keyword arguments or a dict, not '{TemplateValue.TypeName(initial)}'.");
            foreach (var pair in dict)
                ns.Attributes[pair.Key] = pair.Value;
        }
        if (args.Named is not null)
        {
            foreach (var pair in args.Named)
                ns.Attributes[pair.Key] = pair.Value;
        }
        return ns;
    }

    private static object? Dict(RenderContext context, CallArguments args)
    {
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (args.Positional.Count > 0)
        {
            if (args.Positional[0] is Dictionary<string, object?> initial)
            {
                foreach (var pair in initial)
                    dict[pair.Key] = pair.Value;
            }
            else
            {
                foreach (object? item in TemplateValue.AsReadOnlyList(args.Positional[0]))
                {
                    var pair = TemplateValue.AsSequence(item);
                    if (pair is not { Count: 2 } || pair[0] is not string key)
                        throw new TemplateRuntimeException("dict() needs a dict or a list of (key, value) pairs with string keys.");
                    dict[key] = pair[1];
                }
            }
        }
        if (args.Named is not null)
        {
            foreach (var pair in args.Named)
                dict[pair.Key] = pair.Value;
        }
        return dict;
    }

    private static object? RaiseException(RenderContext context, CallArguments args)
        => throw new ChatTemplateException(ChatTemplateErrorKind.Rejected, RejectionPrefix + TemplateValue.ToStr(args.Get(0, "message", "")));

    private static object? StrftimeNow(RenderContext context, CallArguments args)
        => args.Get(0, "format") is string format
            ? PythonFormat.Strftime(context.Clock.GetLocalNow(), format)
            : throw new TemplateRuntimeException("strftime_now() needs a format string such as \"%d %b %Y\".");
}
