namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// <c>x.name</c>, <c>x[key]</c> and <c>x[a:b:c]</c> with Jinja's rules: a dot looks for a method first and
/// then a key, a subscript for a key first and then an attribute; whatever is missing is undefined.
/// </summary>
internal static class TemplateAccess
{
    /// <summary><c>target.name</c>.</summary>
    public static object? GetAttribute(object? target, string name)
    {
        switch (target)
        {
            case Dictionary<string, object?> dict:
                // Jinja's getattr finds dict methods before keys: a JSON-schema key named "items" needs ['items'].
                if (TemplateMethods.IsMethod(target, name))
                    return TemplateMethods.Bind(target, name);
                return dict.TryGetValue(name, out object? value) ? value : Undefined.Instance;
            case TemplateNamespace ns:
                return ns.Attributes.TryGetValue(name, out object? attribute) ? attribute : Undefined.Instance;
            case LoopContext loop:
                return loop.GetAttribute(name);
            default:
                return TemplateMethods.IsMethod(target, name) ? TemplateMethods.Bind(target, name) : Undefined.Instance;
        }
    }

    /// <summary><c>target[key]</c>; negative indices count from the end.</summary>
    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case Dictionary<string, object?> dict:
                string? k = key as string ?? (TemplateValue.IsNumber(key) ? TemplateValue.ToStr(key) : null);
                if (k is not null && dict.TryGetValue(k, out object? value))
                    return value;
                return key is string s && TemplateMethods.IsMethod(target, s) ? TemplateMethods.Bind(target, s) : Undefined.Instance;
            case List<object?> or object?[]:
                if (key is string attribute)
                    return GetAttribute(target, attribute);
                if (!TemplateValue.IsInteger(key))
                    return Undefined.Instance;
                var items = TemplateValue.AsSequence(target)!;
                long index = TemplateValue.AsLong(key);
                if (index < 0)
                    index += items.Count;
                return index >= 0 && index < items.Count ? items[(int)index] : Undefined.Instance;
            case string str:
                if (key is string method)
                    return GetAttribute(target, method);
                if (!TemplateValue.IsInteger(key))
                    return Undefined.Instance;
                long at = TemplateValue.AsLong(key);
                if (at < 0)
                    at += str.Length;
                return at >= 0 && at < str.Length ? str[(int)at].ToString() : Undefined.Instance;
            case TemplateNamespace or LoopContext:
                return key is string name ? GetAttribute(target, name) : Undefined.Instance;
            default:
                return Undefined.Instance;
        }
    }

    /// <summary><c>target[start:stop:step]</c> on a list, tuple or string, with Python's bounds rules.</summary>
    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        if (target is string text && text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0)
        {
            // Python indexes strings by code point: slice the code points so s[::-1] keeps emoji whole.
            var runes = (List<object?>)Slice(TemplateValue.ToList(text), start, stop, step)!;
            return string.Concat(runes);
        }
        long stepValue = IsMissing(step) ? 1 : ToIndex(step);
        if (stepValue == 0)
            throw new TemplateRuntimeException("Slice step cannot be zero.");
        int length = target switch
        {
            string s => s.Length,
            List<object?> list => list.Count,
            object?[] tuple => tuple.Length,
            _ => -1,
        };
        if (length < 0)
            return target is null or Undefined ? Undefined.Instance : throw new TemplateRuntimeException($"'{TemplateValue.TypeName(target)}' object cannot be sliced.");

        long lower = stepValue > 0 ? 0 : -1;
        long upper = stepValue > 0 ? length : length - 1;
        long from = Clamp(start, stepValue > 0 ? lower : upper, length, lower, upper);
        long to = Clamp(stop, stepValue > 0 ? upper : lower, length, lower, upper);
        int count = stepValue > 0
            ? (to > from ? (int)(((to - from - 1) / stepValue) + 1) : 0)
            : (from > to ? (int)(((from - to - 1) / -stepValue) + 1) : 0);

        switch (target)
        {
            case string s:
                var chars = new char[count];
                for (int i = 0; i < count; i++)
                    chars[i] = s[(int)(from + (i * stepValue))];
                return new string(chars);
            case List<object?> list:
                var result = new List<object?>(count);
                for (int i = 0; i < count; i++)
                    result.Add(list[(int)(from + (i * stepValue))]);
                return result;
            default:
                var tuple = (object?[])target!;
                var slice = new object?[count];
                for (int i = 0; i < count; i++)
                    slice[i] = tuple[(int)(from + (i * stepValue))];
                return slice;
        }
    }

    private static bool IsMissing(object? value) => value is null or Undefined;

    private static long ToIndex(object? value) => TemplateValue.IsInteger(value)
        ? TemplateValue.AsLong(value)
        : throw new TemplateRuntimeException($"Slice indices must be integers or None, not '{TemplateValue.TypeName(value)}'.");

    private static long Clamp(object? bound, long missing, int length, long lower, long upper)
    {
        if (IsMissing(bound))
            return missing;
        long value = ToIndex(bound);
        if (value < 0)
            return Math.Max(value + length, lower);
        return Math.Min(value, upper);
    }
}
