using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// Python semantics for the values a template computes with: truthiness, equality, ordering, iteration.
/// </summary>
/// <remarks>
/// A template value is one of:
/// <code>
/// null                         None
/// Undefined.Instance           a missing name, key or attribute
/// bool, long, double, string   bool, int, float, str (bool counts as an int in arithmetic, as in Python)
/// List&lt;object?&gt;             list (mutable: append works)
/// object?[]                    tuple (what items() and loop unpacking give)
/// Dictionary&lt;string, object?&gt; dict, in insertion order
/// TemplateNamespace, LoopContext, TemplateFunction
/// </code>
/// Values from outside (extra variables, message fields) are converted once by <see cref="FromExternal(object?, string)"/>.
/// </remarks>
internal static partial class TemplateValue
{
    /// <summary>Python's <c>bool(value)</c>; undefined is false.</summary>
    public static bool IsTruthy(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length != 0,
        List<object?> list => list.Count != 0,
        object?[] tuple => tuple.Length != 0,
        Dictionary<string, object?> dict => dict.Count != 0,
        _ => true,
    };

    /// <summary>The Python type name, for error messages.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        Undefined => "undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        object?[] => "tuple",
        Dictionary<string, object?> => "dict",
        TemplateNamespace => "namespace",
        LoopContext => "loop",
        TemplateFunction => "function",
        _ => value.GetType().Name,
    };

    /// <summary>int, float or bool.</summary>
    public static bool IsNumber(object? value) => value is long or double or bool;

    /// <summary>int or bool.</summary>
    public static bool IsInteger(object? value) => value is long or bool;

    /// <summary>The integer value of an int or bool (a float is truncated).</summary>
    public static long AsLong(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => (long)d,
        _ => throw new TemplateRuntimeException($"Expected an integer, got {TypeName(value)}."),
    };

    /// <summary>The value of a number as a double.</summary>
    public static double AsDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new TemplateRuntimeException($"Expected a number, got {TypeName(value)}."),
    };

    /// <summary>A list or tuple as a read-only list; null for anything else.</summary>
    public static IReadOnlyList<object?>? AsSequence(object? value) => value switch
    {
        List<object?> list => list,
        object?[] tuple => tuple,
        _ => null,
    };

    /// <summary>Python's <c>==</c>: numbers across int, float and bool; lists and dicts by content.</summary>
    public static bool AreEqual(object? a, object? b)
    {
        if (ReferenceEquals(a, b))
            return true;
        switch (a)
        {
            case string sa:
                return b is string sb && string.Equals(sa, sb, StringComparison.Ordinal);
            case null:
                return b is null;
            case Undefined:
                return b is Undefined;
            case long or bool or double:
                if (!IsNumber(b))
                    return false;
                if (IsInteger(a) && IsInteger(b))
                    return AsLong(a) == AsLong(b);
                return AsDouble(a) == AsDouble(b);
            case List<object?> la:
                return b is List<object?> lb && SequenceEqual(la, lb);
            case object?[] ta:
                return b is object?[] tb && SequenceEqual(ta, tb);
            case Dictionary<string, object?> da:
                if (b is not Dictionary<string, object?> db || da.Count != db.Count)
                    return false;
                foreach (var pair in da)
                {
                    if (!db.TryGetValue(pair.Key, out object? other) || !AreEqual(pair.Value, other))
                        return false;
                }
                return true;
            default:
                return false;
        }
    }

    private static bool SequenceEqual(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count)
            return false;
        for (int i = 0; i < a.Count; i++)
        {
            if (!AreEqual(a[i], b[i]))
                return false;
        }
        return true;
    }

    /// <summary>Python's ordering: numbers, strings (by code unit) and lists or tuples element-wise; null when the two cannot be ordered.</summary>
    public static int? Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (IsInteger(a) && IsInteger(b))
                return AsLong(a).CompareTo(AsLong(b));
            double x = AsDouble(a);
            double y = AsDouble(b);
            return x < y ? -1 : x > y ? 1 : 0;
        }
        if (a is string sa && b is string sb)
            return Math.Sign(string.CompareOrdinal(sa, sb));
        if ((a is List<object?> && b is List<object?>) || (a is object?[] && b is object?[]))
        {
            var la = AsSequence(a)!;
            var lb = AsSequence(b)!;
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (AreEqual(la[i], lb[i]))
                    continue;
                return Compare(la[i], lb[i]);
            }
            return la.Count.CompareTo(lb.Count);
        }
        return null;
    }

    /// <summary>
    /// The items a <c>for</c> loop or a filter walks, as a new list: a list's or tuple's items, a dict's keys,
    /// a string's characters (by code point). Undefined and None give no items.
    /// </summary>
    public static List<object?> ToList(object? value)
    {
        switch (value)
        {
            case List<object?> list:
                return new List<object?>(list);
            case object?[] tuple:
                return new List<object?>(tuple);
            case Dictionary<string, object?> dict:
                var keys = new List<object?>(dict.Count);
                foreach (string key in dict.Keys)
                    keys.Add(key);
                return keys;
            case string s:
                var chars = new List<object?>(s.Length);
                foreach (Rune rune in s.EnumerateRunes())
                    chars.Add(rune.ToString());
                return chars;
            case null or Undefined:
                // Jinja iterates undefined as empty; None is lenient here (Python would fail) because servers
                // often send "tool_calls": null.
                return [];
            case TemplateNamespace ns:
                var names = new List<object?>(ns.Attributes.Count);
                foreach (string key in ns.Attributes.Keys)
                    names.Add(key);
                return names;
            default:
                throw new TemplateRuntimeException($"'{TypeName(value)}' object is not iterable.");
        }
    }

    /// <summary>Like <see cref="ToList"/> but returns a list or tuple itself instead of copying it (for readers only).</summary>
    public static IReadOnlyList<object?> AsReadOnlyList(object? value) => AsSequence(value) ?? ToList(value);

    /// <summary>Python's <c>len()</c>; undefined has length 0.</summary>
    public static long Length(object? value) => value switch
    {
        string s => CodePointCount(s),
        List<object?> list => list.Count,
        object?[] tuple => tuple.Length,
        Dictionary<string, object?> dict => dict.Count,
        TemplateNamespace ns => ns.Attributes.Count,
        null or Undefined => 0,
        _ => throw new TemplateRuntimeException($"object of type '{TypeName(value)}' has no len()."),
    };

    /// <summary>Python's length of a string: code points, so an emoji (a surrogate pair) counts once.</summary>
    public static int CodePointCount(string s)
    {
        int count = s.Length;
        foreach (char c in s)
        {
            if (char.IsLowSurrogate(c))
                count--;
        }
        return count;
    }
}
