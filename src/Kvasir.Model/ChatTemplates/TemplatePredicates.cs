namespace Kvasir.Model.ChatTemplates;

/// <summary>A Jinja test: the <c>defined</c> in <c>x is defined</c>.</summary>
internal delegate bool TestFunction(object? value, CallArguments args);

/// <summary>
/// Jinja's tests (<c>x is defined</c>, <c>x is string</c>, <c>x is divisibleby 3</c>, ...), also used by
/// <c>select</c>, <c>reject</c>, <c>selectattr</c> and <c>rejectattr</c>.
/// </summary>
internal static class TemplatePredicates
{
    private static readonly Dictionary<string, TestFunction> Tests = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _) => v is not Undefined,
        ["undefined"] = (v, _) => v is Undefined,
        ["none"] = (v, _) => v is null,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,
        ["number"] = (v, _) => TemplateValue.IsNumber(v),
        ["string"] = (v, _) => v is string,
        ["mapping"] = (v, _) => v is Dictionary<string, object?>,
        // Undefined iterates (as empty) and has a length in Jinja, so it passes both.
        ["iterable"] = (v, _) => v is string or List<object?> or object?[] or Dictionary<string, object?> or Undefined,
        ["sequence"] = (v, _) => v is string or List<object?> or object?[] or Dictionary<string, object?> or Undefined,
        ["callable"] = (v, _) => v is TemplateFunction,
        ["sameas"] = (v, a) => SameAs(v, Argument(a, "sameas")),
        ["odd"] = (v, _) => Integer(v, "odd") % 2 != 0,
        ["even"] = (v, _) => Integer(v, "even") % 2 == 0,
        ["divisibleby"] = (v, a) => Integer(Argument(a, "divisibleby"), "divisibleby") is long n && n != 0 && Integer(v, "divisibleby") % n == 0,
        ["eq"] = (v, a) => TemplateValue.AreEqual(v, Argument(a, "eq")),
        ["equalto"] = (v, a) => TemplateValue.AreEqual(v, Argument(a, "equalto")),
        ["=="] = (v, a) => TemplateValue.AreEqual(v, Argument(a, "==")),
        ["ne"] = (v, a) => !TemplateValue.AreEqual(v, Argument(a, "ne")),
        ["!="] = (v, a) => !TemplateValue.AreEqual(v, Argument(a, "!=")),
        ["lt"] = (v, a) => Order(v, a, "<") < 0,
        ["lessthan"] = (v, a) => Order(v, a, "<") < 0,
        ["<"] = (v, a) => Order(v, a, "<") < 0,
        ["le"] = (v, a) => Order(v, a, "<=") <= 0,
        ["<="] = (v, a) => Order(v, a, "<=") <= 0,
        ["gt"] = (v, a) => Order(v, a, ">") > 0,
        ["greaterthan"] = (v, a) => Order(v, a, ">") > 0,
        [">"] = (v, a) => Order(v, a, ">") > 0,
        ["ge"] = (v, a) => Order(v, a, ">=") >= 0,
        [">="] = (v, a) => Order(v, a, ">=") >= 0,
        ["in"] = (v, a) => TemplateOperators.Contains(Argument(a, "in"), v),
        ["lower"] = (v, _) => v is string s && s.ToLowerInvariant() == s && s.ToUpperInvariant() != s,
        ["upper"] = (v, _) => v is string s && s.ToUpperInvariant() == s && s.ToLowerInvariant() != s,
        ["escaped"] = (_, _) => false,
    };

    /// <summary>Finds a test by name.</summary>
    public static bool TryGet(string name, out TestFunction test) => Tests.TryGetValue(name, out test!);

    /// <summary>Runs the test named <paramref name="name"/>; fails when there is none.</summary>
    public static bool Run(string name, object? value, CallArguments args)
        => Tests.TryGetValue(name, out var test)
            ? test(value, args)
            : throw new TemplateRuntimeException($"No test named '{name}'.");

    private static object? Argument(CallArguments args, string test)
        => args.Positional.Count > 0 ? args.Positional[0] : throw new TemplateRuntimeException($"The test '{test}' needs an argument.");

    private static long Integer(object? value, string test)
        => TemplateValue.IsInteger(value) ? TemplateValue.AsLong(value) : throw new TemplateRuntimeException($"The test '{test}' needs an integer, got '{TemplateValue.TypeName(value)}'.");

    private static int Order(object? value, CallArguments args, string op)
    {
        object? other = Argument(args, op);
        return TemplateValue.Compare(value, other)
            ?? throw new TemplateRuntimeException($"'{op}' not supported between '{TemplateValue.TypeName(value)}' and '{TemplateValue.TypeName(other)}'.");
    }

    private static bool SameAs(object? a, object? b) => a switch
    {
        null => b is null,
        bool x => b is bool y && x == y,
        Undefined => b is Undefined,
        long x => b is long y && x == y,
        _ => ReferenceEquals(a, b),
    };
}
