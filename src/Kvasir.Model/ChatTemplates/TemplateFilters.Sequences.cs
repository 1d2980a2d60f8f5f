using System.Text;

namespace Kvasir.Model.ChatTemplates;

internal static partial class TemplateFilters
{
    private static object? First(object? v)
    {
        var items = TemplateValue.AsReadOnlyList(v);
        return items.Count > 0 ? items[0] : Undefined.Instance;
    }

    private static object? Last(object? v)
    {
        var items = TemplateValue.AsReadOnlyList(v);
        return items.Count > 0 ? items[^1] : Undefined.Instance;
    }

    private static List<object?> Items(object? v)
    {
        switch (v)
        {
            case Dictionary<string, object?> dict:
                var items = new List<object?>(dict.Count);
                foreach (var pair in dict)
                    items.Add(new object?[] { pair.Key, pair.Value });
                return items;
            case null or Undefined:
                return [];
            default:
                throw new TemplateRuntimeException($"expected a mapping, got '{TemplateValue.TypeName(v)}'.");
        }
    }

    // join(d='', attribute=None)
    private static string Join(object? v, CallArguments a)
    {
        string separator = TemplateValue.ToStr(a.Get(0, "d", ""));
        string? attribute = a.Get(1, "attribute") as string;
        var items = TemplateValue.AsReadOnlyList(v);
        var sb = new StringBuilder();
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0)
                sb.Append(separator);
            TemplateValue.AppendTo(sb, attribute is null ? items[i] : AttributePath(items[i], attribute));
        }
        return sb.ToString();
    }

    /// <summary>Jinja's attribute argument: "a.b.0" looks up a, then b, then item 0.</summary>
    private static object? AttributePath(object? item, string path)
    {
        foreach (string part in path.Split('.'))
        {
            item = long.TryParse(part, out long index) ? TemplateAccess.GetItem(item, index) : TemplateAccess.GetItem(item, part);
        }
        return item;
    }

    // select(test, *args) / selectattr(attribute, test, *args), and their reject forms.
    private static List<object?> Select(object? v, CallArguments a, bool attribute, bool keep)
    {
        var items = TemplateValue.AsReadOnlyList(v);
        int next = 0;
        string? path = null;
        if (attribute)
        {
            path = a.Positional.Count > 0 ? a.Positional[next++] as string : null;
            if (path is null)
                throw new TemplateRuntimeException("selectattr and rejectattr need an attribute name.");
        }
        string? test = null;
        if (a.Positional.Count > next)
        {
            test = a.Positional[next++] as string ?? throw new TemplateRuntimeException("The test of select, reject, selectattr or rejectattr must be a name such as 'equalto'.");
            if (!TemplatePredicates.TryGet(test, out _))
                throw new TemplateRuntimeException($"No test named '{test}'.");
        }
        var testArgs = new CallArguments(a.Positional.GetRange(next, a.Positional.Count - next), null);
        var result = new List<object?>();
        foreach (object? item in items)
        {
            object? subject = path is null ? item : AttributePath(item, path);
            bool pass = test is null ? TemplateValue.IsTruthy(subject) : TemplatePredicates.Run(test, subject, testArgs);
            if (pass == keep)
                result.Add(item);
        }
        return result;
    }

    // map(attribute='x', default=...) or map('filter', *args).
    private static object? Map(RenderContext context, object? v, CallArguments a)
    {
        var items = TemplateValue.AsReadOnlyList(v);
        var result = new List<object?>(items.Count);
        if (a.TryGet(-1, "attribute", out object? attributeArg))
        {
            string path = attributeArg as string ?? TemplateValue.ToStr(attributeArg);
            bool hasDefault = a.TryGet(-1, "default", out object? fallback);
            foreach (object? item in items)
            {
                object? value = AttributePath(item, path);
                result.Add(value is Undefined && hasDefault ? fallback : value);
            }
            return result;
        }
        if (a.Positional.Count == 0 || a.Positional[0] is not string name)
            throw new TemplateRuntimeException("map needs attribute='name' or the name of a filter.");
        if (!TryGet(name, out var filter))
            throw new TemplateRuntimeException($"No filter named '{name}'.");
        var filterArgs = new CallArguments(a.Positional.GetRange(1, a.Positional.Count - 1), a.Named);
        foreach (object? item in items)
            result.Add(filter(context, item, filterArgs));
        return result;
    }

    private static object? Reverse(object? v)
    {
        if (v is string s)
        {
            var runes = TemplateValue.ToList(s);
            runes.Reverse();
            return string.Concat(runes);
        }
        var items = TemplateValue.ToList(v);
        items.Reverse();
        return items;
    }

    // sort(reverse=False, case_sensitive=False, attribute=None): stable, as Python's sorted.
    private static List<object?> Sort(object? v, CallArguments a)
    {
        bool reverse = TemplateValue.IsTruthy(a.Get(0, "reverse", false));
        bool caseSensitive = TemplateValue.IsTruthy(a.Get(1, "case_sensitive", false));
        string? attribute = a.Get(2, "attribute") as string;
        var items = TemplateValue.ToList(v);
        var keys = new object?[items.Count];
        var order = new int[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            keys[i] = SortKey(attribute is null ? items[i] : AttributePath(items[i], attribute), caseSensitive);
            order[i] = i;
        }
        SortOrUnwrap(order, (x, y) =>
        {
            int c = Compare(keys[x], keys[y]);
            if (reverse)
                c = -c;
            return c != 0 ? c : x.CompareTo(y);
        });
        var sorted = new List<object?>(items.Count);
        foreach (int i in order)
            sorted.Add(items[i]);
        return sorted;
    }

    // dictsort(case_sensitive=False, by='key', reverse=False): a list of (key, value) pairs.
    private static List<object?> DictSort(object? v, CallArguments a)
    {
        bool caseSensitive = TemplateValue.IsTruthy(a.Get(0, "case_sensitive", false));
        bool byValue = (a.Get(1, "by", "key") as string) == "value";
        bool reverse = TemplateValue.IsTruthy(a.Get(2, "reverse", false));
        var pairs = Items(v).ToArray();
        SortOrUnwrap(pairs, (x, y) =>
        {
            var px = (object?[])x!;
            var py = (object?[])y!;
            int c = Compare(SortKey(px[byValue ? 1 : 0], caseSensitive), SortKey(py[byValue ? 1 : 0], caseSensitive));
            return reverse ? -c : c;
        });
        return [.. pairs];
    }

    // unique(case_sensitive=False, attribute=None): first occurrence wins.
    private static List<object?> Unique(object? v, CallArguments a)
    {
        bool caseSensitive = TemplateValue.IsTruthy(a.Get(0, "case_sensitive", false));
        string? attribute = a.Get(1, "attribute") as string;
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (object? item in TemplateValue.AsReadOnlyList(v))
        {
            object? key = SortKey(attribute is null ? item : AttributePath(item, attribute), caseSensitive);
            bool duplicate = false;
            foreach (object? s in seen)
            {
                if (TemplateValue.AreEqual(s, key))
                {
                    duplicate = true;
                    break;
                }
            }
            if (duplicate)
                continue;
            seen.Add(key);
            result.Add(item);
        }
        return result;
    }

    // min/max(case_sensitive=False, attribute=None); undefined for an empty sequence.
    private static object? MinMax(object? v, CallArguments a, bool max)
    {
        bool caseSensitive = TemplateValue.IsTruthy(a.Get(0, "case_sensitive", false));
        string? attribute = a.Get(1, "attribute") as string;
        object? best = Undefined.Instance;
        object? bestKey = null;
        foreach (object? item in TemplateValue.AsReadOnlyList(v))
        {
            object? key = SortKey(attribute is null ? item : AttributePath(item, attribute), caseSensitive);
            if (best is Undefined || (Compare(key, bestKey) is int c && (max ? c > 0 : c < 0)))
            {
                best = item;
                bestKey = key;
            }
        }
        return best;
    }

    // sum(attribute=None, start=0)
    private static object? Sum(object? v, CallArguments a)
    {
        string? attribute = a.Get(0, "attribute") as string;
        object? total = a.Get(1, "start", 0L);
        foreach (object? item in TemplateValue.AsReadOnlyList(v))
            total = TemplateOperators.Add(total, attribute is null ? item : AttributePath(item, attribute));
        return total;
    }

    private static object? SortKey(object? value, bool caseSensitive)
        => !caseSensitive && value is string s ? s.ToLowerInvariant() : value;

    private static int Compare(object? x, object? y)
        => TemplateValue.Compare(x, y)
            ?? throw new TemplateRuntimeException($"cannot order '{TemplateValue.TypeName(x)}' and '{TemplateValue.TypeName(y)}'.");

    // Array.Sort wraps a comparer's exception in InvalidOperationException; hand the template error on as it is.
    private static void SortOrUnwrap<T>(T[] items, Comparison<T> comparison)
    {
        try
        {
            Array.Sort(items, comparison);
        }
        catch (InvalidOperationException e) when (e.InnerException is TemplateRuntimeException inner)
        {
            throw new TemplateRuntimeException(inner.Message);
        }
    }
}
