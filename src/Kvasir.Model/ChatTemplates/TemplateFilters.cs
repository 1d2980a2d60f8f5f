using System.Globalization;
using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>A Jinja filter: the <c>trim</c> in <c>x | trim</c>. <paramref name="value"/> is the piped value.</summary>
internal delegate object? FilterFunction(RenderContext context, object? value, CallArguments args);

/// <summary>
/// Jinja's filters, resolved by name when the template is parsed (an unknown filter is a syntax error, as in
/// Jinja). This file holds the table and the filters on strings and numbers; sequence filters are in
/// <c>TemplateFilters.Sequences.cs</c>.
/// </summary>
internal static partial class TemplateFilters
{
    private static readonly Dictionary<string, FilterFunction> Filters = new(StringComparer.Ordinal)
    {
        ["abs"] = (_, v, _) => Abs(v),
        ["attr"] = (_, v, a) => Attr(v, a),
        ["capitalize"] = (_, v, _) => TemplateMethods.Capitalize(TemplateValue.ToStr(v)),
        ["count"] = (_, v, _) => TemplateValue.Length(v),
        ["d"] = (_, v, a) => Default(v, a),
        ["default"] = (_, v, a) => Default(v, a),
        ["dictsort"] = (_, v, a) => DictSort(v, a),
        ["e"] = (_, v, _) => Escape(v),
        ["escape"] = (_, v, _) => Escape(v),
        ["first"] = (_, v, _) => First(v),
        ["float"] = (_, v, a) => ToFloat(v, a),
        ["forceescape"] = (_, v, _) => Escape(v),
        ["format"] = (_, v, a) => PythonFormat.Percent(TemplateValue.ToStr(v), a.Positional.ToArray()),
        ["indent"] = (_, v, a) => Indent(v, a),
        ["int"] = (_, v, a) => ToInt(v, a),
        ["items"] = (_, v, _) => Items(v),
        ["join"] = (_, v, a) => Join(v, a),
        ["last"] = (_, v, _) => Last(v),
        ["length"] = (_, v, _) => TemplateValue.Length(v),
        ["list"] = (_, v, _) => TemplateValue.ToList(v),
        ["lower"] = (_, v, _) => TemplateValue.ToStr(v).ToLowerInvariant(),
        ["map"] = Map,
        ["max"] = (_, v, a) => MinMax(v, a, max: true),
        ["min"] = (_, v, a) => MinMax(v, a, max: false),
        ["pprint"] = (_, v, _) => TemplateValue.Repr(v),
        ["reject"] = (_, v, a) => Select(v, a, attribute: false, keep: false),
        ["rejectattr"] = (_, v, a) => Select(v, a, attribute: true, keep: false),
        ["replace"] = (_, v, a) => Replace(v, a),
        ["reverse"] = (_, v, _) => Reverse(v),
        ["round"] = (_, v, a) => Round(v, a),
        ["safe"] = (_, v, _) => v,
        ["select"] = (_, v, a) => Select(v, a, attribute: false, keep: true),
        ["selectattr"] = (_, v, a) => Select(v, a, attribute: true, keep: true),
        ["sort"] = (_, v, a) => Sort(v, a),
        ["string"] = (_, v, _) => TemplateValue.ToStr(v),
        ["sum"] = (_, v, a) => Sum(v, a),
        ["title"] = (_, v, _) => Title(TemplateValue.ToStr(v)),
        ["tojson"] = (_, v, a) => ToJson(v, a),
        ["trim"] = (_, v, a) => TemplateMethods.Strip(TemplateValue.ToStr(v), a.Get(0, "chars"), true, true),
        ["unique"] = (_, v, a) => Unique(v, a),
        ["upper"] = (_, v, _) => TemplateValue.ToStr(v).ToUpperInvariant(),
        ["wordcount"] = (_, v, _) => WordCount(TemplateValue.ToStr(v)),
    };

    /// <summary>Finds a filter by name.</summary>
    public static bool TryGet(string name, out FilterFunction filter) => Filters.TryGetValue(name, out filter!);

    private static object? Abs(object? v) => v switch
    {
        long l => (object)Math.Abs(l),
        double d => Math.Abs(d),
        bool b => b ? 1L : 0L,
        _ => throw new TemplateRuntimeException($"Bad operand type for abs(): '{TemplateValue.TypeName(v)}'."),
    };

    // attr(name) looks up an attribute only, never a dict key (x | attr('name') is undefined for {'name': 1}).
    private static object? Attr(object? v, CallArguments a)
    {
        string name = a.Get(0, "name") as string ?? throw new TemplateRuntimeException("attr needs an attribute name.");
        return v is Dictionary<string, object?> && !TemplateMethods.IsMethod(v, name) ? Undefined.Instance : TemplateAccess.GetAttribute(v, name);
    }

    // default(value, default_value='', boolean=False): only undefined is replaced unless boolean is true.
    private static object? Default(object? v, CallArguments a)
    {
        bool boolean = TemplateValue.IsTruthy(a.Get(1, "boolean", false));
        bool replace = boolean ? !TemplateValue.IsTruthy(v) : v is Undefined;
        return replace ? a.Get(0, "default_value", "") : v;
    }

    private static string Escape(object? v)
    {
        string s = TemplateValue.ToStr(v);
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&#34;",
                '\'' => "&#39;",
                _ => null,
            } ?? c.ToString());
        }
        return sb.ToString();
    }

    private static object? ToInt(object? v, CallArguments a)
    {
        object? fallback = a.Get(0, "default", 0L);
        switch (v)
        {
            case long or bool:
                return TemplateValue.AsLong(v);
            case double d:
                return double.IsFinite(d) ? (long)d : fallback;
            case string s:
                string t = s.Trim().Replace("_", "", StringComparison.Ordinal);
                if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
                    return l;
                if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && double.IsFinite(f))
                    return (long)f;
                return fallback;
            default:
                return fallback;
        }
    }

    private static object? ToFloat(object? v, CallArguments a)
    {
        object? fallback = a.Get(0, "default", 0.0);
        return v switch
        {
            long or bool or double => TemplateValue.AsDouble(v),
            string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double f) => f,
            _ => fallback,
        };
    }

    private static string Replace(object? v, CallArguments a)
    {
        string s = TemplateValue.ToStr(v);
        string old = TemplateValue.ToStr(a.Get(0, "old"));
        string replacement = TemplateValue.ToStr(a.Get(1, "new"));
        object? count = a.Get(2, "count");
        return TemplateMethods.Replace(s, old, replacement, count is null or Undefined ? -1 : TemplateValue.AsLong(count));
    }

    // round(value, precision=0, method='common'): Python's round (half to even) keeps an int an int.
    private static object? Round(object? v, CallArguments a)
    {
        int precision = (int)TemplateValue.AsLong(a.Get(0, "precision", 0L));
        string method = a.Get(1, "method", "common") as string ?? "common";
        if (method == "common" && TemplateValue.IsInteger(v))
            return TemplateValue.AsLong(v);
        double x = TemplateValue.AsDouble(v);
        double scale = Math.Pow(10, precision);
        return method switch
        {
            "common" => Math.Round(x, Math.Clamp(precision, 0, 15), MidpointRounding.ToEven),
            "floor" => Math.Floor(x * scale) / scale,
            "ceil" => Math.Ceiling(x * scale) / scale,
            _ => throw new TemplateRuntimeException("method must be 'common', 'ceil' or 'floor'."),
        };
    }

    // Jinja's title: upper case after the start and after any of - whitespace ( { [ <, lower case elsewhere.
    private static string Title(string s)
    {
        var chars = s.ToCharArray();
        bool wordStart = true;
        for (int i = 0; i < chars.Length; i++)
        {
            char c = chars[i];
            bool separator = c is '-' or '(' or '{' or '[' or '<' || char.IsWhiteSpace(c);
            chars[i] = separator ? c : wordStart ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c);
            wordStart = separator;
        }
        return new string(chars);
    }

    // indent(width=4, first=False, blank=False), Jinja 3 semantics.
    private static string Indent(object? v, CallArguments a)
    {
        object? width = a.Get(0, "width", 4L);
        string indent = width as string ?? new string(' ', (int)Math.Clamp(TemplateValue.AsLong(width), 0, 1000));
        bool first = TemplateValue.IsTruthy(a.Get(1, "first", false));
        bool blank = TemplateValue.IsTruthy(a.Get(2, "blank", false));
        string[] lines = (TemplateValue.ToStr(v) + "\n").Split('\n');
        var sb = new StringBuilder();
        for (int i = 0; i < lines.Length - 1; i++)
        {
            if (i > 0)
            {
                sb.Append('\n');
                if (blank || lines[i].Length > 0)
                    sb.Append(indent);
            }
            sb.Append(lines[i]);
        }
        return first ? indent + sb : sb.ToString();
    }

    private static long WordCount(string s)
    {
        long count = 0;
        bool inWord = false;
        foreach (char c in s)
        {
            bool word = char.IsLetterOrDigit(c) || c == '_';
            if (word && !inWord)
                count++;
            inWord = word;
        }
        return count;
    }

    // Hugging Face's tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
    private static string ToJson(object? v, CallArguments a)
    {
        bool ensureAscii = TemplateValue.IsTruthy(a.Get(0, "ensure_ascii", false));
        object? indentArg = a.Get(1, "indent");
        string? indent = indentArg switch
        {
            null or Undefined => null,
            string s => s,
            _ => new string(' ', (int)Math.Clamp(TemplateValue.AsLong(indentArg), 0, 64)),
        };
        string? itemSeparator = null;
        string? keySeparator = null;
        if (TemplateValue.AsSequence(a.Get(2, "separators")) is { Count: 2 } separators)
        {
            itemSeparator = TemplateValue.ToStr(separators[0]);
            keySeparator = TemplateValue.ToStr(separators[1]);
        }
        bool sortKeys = TemplateValue.IsTruthy(a.Get(3, "sort_keys", false));
        return TemplateJson.Serialize(v, indent, sortKeys, ensureAscii, itemSeparator, keySeparator);
    }
}
