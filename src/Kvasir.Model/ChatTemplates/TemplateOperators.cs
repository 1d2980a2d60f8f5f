using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>Python's arithmetic, <c>~</c> and <c>in</c> over template values.</summary>
internal static class TemplateOperators
{
    /// <summary><c>a + b</c>: numbers, str + str, list + list, tuple + tuple.</summary>
    public static object? Add(object? a, object? b)
    {
        if (a is string sa && b is string sb)
            return string.Concat(sa, sb);
        if (TemplateValue.IsInteger(a) && TemplateValue.IsInteger(b))
            return TemplateValue.AsLong(a) + TemplateValue.AsLong(b);
        if (TemplateValue.IsNumber(a) && TemplateValue.IsNumber(b))
            return TemplateValue.AsDouble(a) + TemplateValue.AsDouble(b);
        if (a is List<object?> la && b is List<object?> lb)
        {
            var result = new List<object?>(la.Count + lb.Count);
            result.AddRange(la);
            result.AddRange(lb);
            return result;
        }
        if (a is object?[] ta && b is object?[] tb)
            return (object?[])[.. ta, .. tb];
        throw Unsupported("+", a, b);
    }

    /// <summary><c>a - b</c> on numbers.</summary>
    public static object? Subtract(object? a, object? b)
    {
        if (TemplateValue.IsInteger(a) && TemplateValue.IsInteger(b))
            return TemplateValue.AsLong(a) - TemplateValue.AsLong(b);
        if (TemplateValue.IsNumber(a) && TemplateValue.IsNumber(b))
            return TemplateValue.AsDouble(a) - TemplateValue.AsDouble(b);
        throw Unsupported("-", a, b);
    }

    /// <summary><c>a * b</c>: numbers, and a string or list repeated an integer number of times.</summary>
    public static object? Multiply(object? a, object? b)
    {
        if (TemplateValue.IsInteger(a) && TemplateValue.IsInteger(b))
            return TemplateValue.AsLong(a) * TemplateValue.AsLong(b);
        if (TemplateValue.IsNumber(a) && TemplateValue.IsNumber(b))
            return TemplateValue.AsDouble(a) * TemplateValue.AsDouble(b);
        if (TemplateValue.IsInteger(a) && b is string or List<object?>)
            (a, b) = (b, a);
        if (TemplateValue.IsInteger(b))
        {
            long times = Math.Max(0, TemplateValue.AsLong(b));
            if (a is string s)
            {
                if (s.Length > 0 && times > (1 << 24) / s.Length)
                    throw new TemplateRuntimeException("String repetition would exceed 16M characters.");
                var sb = new StringBuilder(s.Length * (int)Math.Min(times, 1 << 24));
                for (long i = 0; i < times; i++)
                    sb.Append(s);
                return sb.ToString();
            }
            if (a is List<object?> list)
            {
                if (list.Count > 0 && times > (1 << 20) / list.Count)
                    throw new TemplateRuntimeException("List repetition would exceed 1M items.");
                var result = new List<object?>(list.Count * (int)Math.Min(times, 1 << 20));
                for (long i = 0; i < times; i++)
                    result.AddRange(list);
                return result;
            }
        }
        throw Unsupported("*", a, b);
    }

    /// <summary><c>a / b</c>: always a float, as in Python 3.</summary>
    public static object? Divide(object? a, object? b)
    {
        if (!TemplateValue.IsNumber(a) || !TemplateValue.IsNumber(b))
            throw Unsupported("/", a, b);
        double divisor = TemplateValue.AsDouble(b);
        if (divisor == 0)
            throw new TemplateRuntimeException("Division by zero.");
        return TemplateValue.AsDouble(a) / divisor;
    }

    /// <summary><c>a // b</c>: Python's floor division.</summary>
    public static object? FloorDivide(object? a, object? b)
    {
        if (TemplateValue.IsInteger(a) && TemplateValue.IsInteger(b))
        {
            long x = TemplateValue.AsLong(a);
            long y = TemplateValue.AsLong(b);
            if (y == 0)
                throw new TemplateRuntimeException("Integer division by zero.");
            long q = x / y;
            if (x % y != 0 && ((x < 0) != (y < 0)))
                q--;
            return q;
        }
        if (TemplateValue.IsNumber(a) && TemplateValue.IsNumber(b))
        {
            double divisor = TemplateValue.AsDouble(b);
            if (divisor == 0)
                throw new TemplateRuntimeException("Division by zero.");
            return Math.Floor(TemplateValue.AsDouble(a) / divisor);
        }
        throw Unsupported("//", a, b);
    }

    /// <summary><c>a % b</c>: Python's modulo (the sign of the divisor), or printf-style formatting when a is a string.</summary>
    public static object? Modulo(object? a, object? b)
    {
        if (a is string format)
            return PythonFormat.Percent(format, b);
        if (TemplateValue.IsInteger(a) && TemplateValue.IsInteger(b))
        {
            long x = TemplateValue.AsLong(a);
            long y = TemplateValue.AsLong(b);
            if (y == 0)
                throw new TemplateRuntimeException("Integer modulo by zero.");
            long r = x % y;
            if (r != 0 && ((r < 0) != (y < 0)))
                r += y;
            return r;
        }
        if (TemplateValue.IsNumber(a) && TemplateValue.IsNumber(b))
        {
            double y = TemplateValue.AsDouble(b);
            if (y == 0)
                throw new TemplateRuntimeException("Float modulo by zero.");
            double r = TemplateValue.AsDouble(a) % y;
            if (r != 0 && ((r < 0) != (y < 0)))
                r += y;
            return r;
        }
        throw Unsupported("%", a, b);
    }

    /// <summary><c>a ** b</c>: an int for a non-negative integer exponent, else a float.</summary>
    public static object? Power(object? a, object? b)
    {
        if (TemplateValue.IsInteger(a) && TemplateValue.IsInteger(b) && TemplateValue.AsLong(b) >= 0)
        {
            long x = TemplateValue.AsLong(a);
            long n = TemplateValue.AsLong(b);
            long result = 1;
            for (long i = 0; i < n && i < 64; i++)
                result *= x;
            return result;
        }
        if (TemplateValue.IsNumber(a) && TemplateValue.IsNumber(b))
            return Math.Pow(TemplateValue.AsDouble(a), TemplateValue.AsDouble(b));
        throw Unsupported("**", a, b);
    }

    /// <summary>Unary <c>-a</c>.</summary>
    public static object? Negate(object? a) => a switch
    {
        // Each arm is boxed on its own: a switch over long and double arms would otherwise make every result a double.
        long l => (object)(-l),
        bool b => b ? -1L : 0L,
        double d => -d,
        _ => throw new TemplateRuntimeException($"Bad operand type for unary '-': '{TemplateValue.TypeName(a)}'{UndefinedHint(a, null)}."),
    };

    /// <summary>Unary <c>+a</c>.</summary>
    public static object? Plus(object? a) => a switch
    {
        long or double => a,
        bool b => b ? 1L : 0L,
        _ => throw new TemplateRuntimeException($"Bad operand type for unary '+': '{TemplateValue.TypeName(a)}'{UndefinedHint(a, null)}."),
    };

    /// <summary><c>a ~ b</c>: both as strings, joined.</summary>
    public static string Concat(object? a, object? b) => string.Concat(TemplateValue.ToStr(a), TemplateValue.ToStr(b));

    /// <summary><c>item in container</c>: substring, list or tuple member, dict key. Nothing is in undefined or None.</summary>
    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                if (item is not string sub)
                    throw new TemplateRuntimeException($"'in <string>' requires a string on the left, not '{TemplateValue.TypeName(item)}'.");
                return s.Contains(sub, StringComparison.Ordinal);
            case List<object?> or object?[]:
                foreach (object? x in TemplateValue.AsSequence(container)!)
                {
                    if (TemplateValue.AreEqual(x, item))
                        return true;
                }
                return false;
            case Dictionary<string, object?> dict:
                return item is string key && dict.ContainsKey(key);
            case TemplateNamespace ns:
                return item is string name && ns.Attributes.ContainsKey(name);
            case null or Undefined:
                return false;
            default:
                throw new TemplateRuntimeException($"Argument of type '{TemplateValue.TypeName(container)}' is not iterable ('in').");
        }
    }

    private static TemplateRuntimeException Unsupported(string op, object? a, object? b)
        => new($"Unsupported operand types for '{op}': '{TemplateValue.TypeName(a)}' and '{TemplateValue.TypeName(b)}'{UndefinedHint(a, b)}.");

    private static string UndefinedHint(object? a, object? b)
        => a is Undefined || b is Undefined ? " (a variable, key or attribute is undefined)" : "";
}
