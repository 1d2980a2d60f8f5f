using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// The Python methods templates call on strings (<c>strip</c>, <c>split</c>, <c>startswith</c>, ...), dicts
/// (<c>items</c>, <c>get</c>, ...) and lists (<c>append</c>, ...), and <c>loop.cycle</c>.
/// </summary>
internal static class TemplateMethods
{
    private static readonly HashSet<string> StringMethods = new(StringComparer.Ordinal)
    {
        "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "upper", "lower",
        "title", "capitalize", "replace", "find", "rfind", "count", "join", "format", "isdigit", "isalpha",
        "isalnum", "isspace", "isupper", "islower", "removeprefix", "removesuffix",
    };

    private static readonly HashSet<string> DictMethods = new(StringComparer.Ordinal)
    {
        "items", "keys", "values", "get", "update", "pop", "setdefault", "copy",
    };

    private static readonly HashSet<string> ListMethods = new(StringComparer.Ordinal)
    {
        "append", "extend", "pop", "insert", "index", "count", "copy", "reverse",
    };

    /// <summary>True when <paramref name="name"/> is a method of the value's type.</summary>
    public static bool IsMethod(object? target, string name) => target switch
    {
        string => StringMethods.Contains(name),
        Dictionary<string, object?> => DictMethods.Contains(name),
        List<object?> => ListMethods.Contains(name),
        object?[] => name is "index" or "count",
        LoopContext => name == "cycle",
        _ => false,
    };

    /// <summary>The method as a callable value (for <c>x.items</c> without a call).</summary>
    public static TemplateFunction Bind(object? target, string name)
        => new(name, (context, args) => TryInvoke(target, name, args, out object? result)
            ? result
            : throw new TemplateRuntimeException($"'{TemplateValue.TypeName(target)}' object has no method '{name}'."));

    /// <summary>Calls <c>target.name(args)</c> when it is a known method; false otherwise.</summary>
    public static bool TryInvoke(object? target, string name, CallArguments args, out object? result)
    {
        if (!IsMethod(target, name))
        {
            result = null;
            return false;
        }
        result = target switch
        {
            string s => InvokeString(s, name, args),
            Dictionary<string, object?> d => InvokeDict(d, name, args),
            List<object?> l => InvokeList(l, name, args),
            object?[] t => InvokeSequence(t, name, args),
            LoopContext loop => loop.Cycle(args.Positional),
            _ => null,
        };
        return true;
    }

    private static object? InvokeString(string s, string name, CallArguments args)
    {
        switch (name)
        {
            case "strip": return Strip(s, args.Get(0, "chars"), true, true);
            case "lstrip": return Strip(s, args.Get(0, "chars"), true, false);
            case "rstrip": return Strip(s, args.Get(0, "chars"), false, true);
            case "startswith": return Affix(s, args.Get(0, "prefix"), name, (x, a) => x.StartsWith(a, StringComparison.Ordinal));
            case "endswith": return Affix(s, args.Get(0, "suffix"), name, (x, a) => x.EndsWith(a, StringComparison.Ordinal));
            case "split": return Split(s, args.Get(0, "sep"), MaxSplit(args));
            case "rsplit": return RSplit(s, args.Get(0, "sep"), MaxSplit(args));
            case "splitlines": return SplitLines(s);
            case "upper": return s.ToUpperInvariant();
            case "lower": return s.ToLowerInvariant();
            case "title": return Title(s);
            case "capitalize": return Capitalize(s);
            case "replace":
                string old = ArgString(args, 0, "old", name);
                string replacement = ArgString(args, 1, "new", name);
                long count = args.TryGet(2, "count", out object? c) ? TemplateValue.AsLong(c) : -1;
                return Replace(s, old, replacement, count);
            case "find": return (long)s.IndexOf(ArgString(args, 0, "sub", name), StringComparison.Ordinal);
            case "rfind": return (long)s.LastIndexOf(ArgString(args, 0, "sub", name), StringComparison.Ordinal);
            case "count": return CountOccurrences(s, ArgString(args, 0, "sub", name));
            case "join":
                var sb = new StringBuilder();
                var items = TemplateValue.AsReadOnlyList(args.Get(0, "iterable"));
                for (int i = 0; i < items.Count; i++)
                {
                    if (i > 0)
                        sb.Append(s);
                    sb.Append(items[i] as string ?? throw new TemplateRuntimeException($"join: item {i} is '{TemplateValue.TypeName(items[i])}', not a string."));
                }
                return sb.ToString();
            case "format": return PythonFormat.Braces(s, args);
            case "isdigit": return s.Length > 0 && s.All(char.IsDigit);
            case "isalpha": return s.Length > 0 && s.All(char.IsLetter);
            case "isalnum": return s.Length > 0 && s.All(char.IsLetterOrDigit);
            case "isspace": return s.Length > 0 && s.All(char.IsWhiteSpace);
            case "isupper": return s.Any(char.IsLetter) && !s.Any(char.IsLower);
            case "islower": return s.Any(char.IsLetter) && !s.Any(char.IsUpper);
            case "removeprefix":
                string prefix = ArgString(args, 0, "prefix", name);
                return s.StartsWith(prefix, StringComparison.Ordinal) ? s[prefix.Length..] : s;
            default:
                string suffix = ArgString(args, 0, "suffix", name);
                return s.EndsWith(suffix, StringComparison.Ordinal) ? s[..^suffix.Length] : s;
        }
    }

    private static object? InvokeDict(Dictionary<string, object?> d, string name, CallArguments args)
    {
        switch (name)
        {
            case "items":
                var items = new List<object?>(d.Count);
                foreach (var pair in d)
                    items.Add(new object?[] { pair.Key, pair.Value });
                return items;
            case "keys":
                return TemplateValue.ToList(d);
            case "values":
                return new List<object?>(d.Values);
            case "get":
                return args.Get(0, "key") is string key && d.TryGetValue(key, out object? value) ? value : args.Get(1, "default");
            case "update":
                if (args.Get(0, "\0") is Dictionary<string, object?> other)
                {
                    foreach (var pair in other)
                        d[pair.Key] = pair.Value;
                }
                if (args.Named is not null)
                {
                    foreach (var pair in args.Named)
                        d[pair.Key] = pair.Value;
                }
                return null;
            case "pop":
                string popKey = ArgString(args, 0, "key", name);
                if (d.Remove(popKey, out object? popped))
                    return popped;
                return args.TryGet(1, "default", out object? fallback) ? fallback : throw new TemplateRuntimeException($"KeyError: '{popKey}'.");
            case "setdefault":
                string setKey = ArgString(args, 0, "key", name);
                if (!d.TryGetValue(setKey, out object? existing))
                    d[setKey] = existing = args.Get(1, "default");
                return existing;
            default:
                return new Dictionary<string, object?>(d, StringComparer.Ordinal);
        }
    }

    private static object? InvokeList(List<object?> list, string name, CallArguments args)
    {
        switch (name)
        {
            case "append":
                list.Add(args.Get(0, "object"));
                return null;
            case "extend":
                list.AddRange(TemplateValue.ToList(args.Get(0, "iterable")));
                return null;
            case "pop":
                if (list.Count == 0)
                    throw new TemplateRuntimeException("pop from empty list.");
                long at = args.TryGet(0, "index", out object? i) ? TemplateValue.AsLong(i) : -1;
                if (at < 0)
                    at += list.Count;
                if (at < 0 || at >= list.Count)
                    throw new TemplateRuntimeException("pop index out of range.");
                object? item = list[(int)at];
                list.RemoveAt((int)at);
                return item;
            case "insert":
                long where = TemplateValue.AsLong(args.Get(0, "index", 0L));
                if (where < 0)
                    where = Math.Max(0, where + list.Count);
                list.Insert((int)Math.Min(where, list.Count), args.Get(1, "object"));
                return null;
            case "copy":
                return new List<object?>(list);
            case "reverse":
                list.Reverse();
                return null;
            default:
                return InvokeSequence(list, name, args);
        }
    }

    private static object? InvokeSequence(IReadOnlyList<object?> items, string name, CallArguments args)
    {
        object? value = args.Get(0, "value");
        long count = 0;
        for (int i = 0; i < items.Count; i++)
        {
            if (!TemplateValue.AreEqual(items[i], value))
                continue;
            if (name == "index")
                return (long)i;
            count++;
        }
        return name == "index" ? throw new TemplateRuntimeException($"{TemplateValue.Repr(value)} is not in list.") : count;
    }

    private static string ArgString(CallArguments args, int index, string name, string method)
        => args.Get(index, name) as string ?? throw new TemplateRuntimeException($"{method}() needs a string for '{name}'.");

    private static long MaxSplit(CallArguments args) => args.TryGet(1, "maxsplit", out object? m) ? TemplateValue.AsLong(m) : -1;

    /// <summary>Python's <c>str.strip</c> family: whitespace, or any of the given characters.</summary>
    public static string Strip(string s, object? chars, bool left, bool right)
    {
        if (chars is null or Undefined)
        {
            return left && right ? s.Trim() : left ? s.TrimStart() : s.TrimEnd();
        }
        if (chars is not string set)
            throw new TemplateRuntimeException($"strip arg must be None or str, not '{TemplateValue.TypeName(chars)}'.");
        char[] trim = set.ToCharArray();
        return left && right ? s.Trim(trim) : left ? s.TrimStart(trim) : s.TrimEnd(trim);
    }

    private static bool Affix(string s, object? affix, string method, Func<string, string, bool> test)
    {
        if (affix is string one)
            return test(s, one);
        if (affix is object?[] or List<object?>)
        {
            foreach (object? option in TemplateValue.AsSequence(affix)!)
            {
                if (option is string o && test(s, o))
                    return true;
            }
            return false;
        }
        throw new TemplateRuntimeException($"{method} first arg must be str or a tuple of str, not '{TemplateValue.TypeName(affix)}'.");
    }

    /// <summary>Python's <c>str.split(sep, maxsplit)</c>; no separator splits on runs of whitespace.</summary>
    public static List<object?> Split(string s, object? separator, long maxSplit)
    {
        var parts = new List<object?>();
        if (separator is null or Undefined)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i]))
                    i++;
                if (i >= s.Length)
                    break;
                if (maxSplit >= 0 && parts.Count == maxSplit)
                {
                    parts.Add(s[i..]);
                    break;
                }
                int start = i;
                while (i < s.Length && !char.IsWhiteSpace(s[i]))
                    i++;
                parts.Add(s[start..i]);
            }
            return parts;
        }
        if (separator is not string sep || sep.Length == 0)
            throw new TemplateRuntimeException("split() separator must be a non-empty string.");
        int from = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int at = s.IndexOf(sep, from, StringComparison.Ordinal);
            if (at < 0)
                break;
            parts.Add(s[from..at]);
            from = at + sep.Length;
        }
        parts.Add(s[from..]);
        return parts;
    }

    private static List<object?> RSplit(string s, object? separator, long maxSplit)
    {
        if (separator is null or Undefined || maxSplit < 0)
            return Split(s, separator, maxSplit);
        if (separator is not string sep || sep.Length == 0)
            throw new TemplateRuntimeException("rsplit() separator must be a non-empty string.");
        var parts = new List<object?>();
        int end = s.Length;
        while (parts.Count < maxSplit)
        {
            int at = end - sep.Length < 0 ? -1 : s.LastIndexOf(sep, end - 1, end, StringComparison.Ordinal);
            if (at < 0)
                break;
            parts.Add(s[(at + sep.Length)..end]);
            end = at;
        }
        parts.Add(s[..end]);
        parts.Reverse();
        return parts;
    }

    private static List<object?> SplitLines(string s)
    {
        var lines = new List<object?>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] is not ('\n' or '\r'))
                continue;
            lines.Add(s[start..i]);
            if (s[i] == '\r' && i + 1 < s.Length && s[i + 1] == '\n')
                i++;
            start = i + 1;
        }
        if (start < s.Length)
            lines.Add(s[start..]);
        return lines;
    }

    /// <summary>Python's <c>str.title</c>: a letter after a non-letter is upper case, other letters lower case.</summary>
    public static string Title(string s)
    {
        var chars = s.ToCharArray();
        bool previousCased = false;
        for (int i = 0; i < chars.Length; i++)
        {
            char c = chars[i];
            chars[i] = previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c);
            previousCased = char.IsLetter(c);
        }
        return new string(chars);
    }

    /// <summary>Python's <c>str.capitalize</c>: the first character upper case, the rest lower case.</summary>
    public static string Capitalize(string s)
        => s.Length == 0 ? s : string.Concat(char.ToUpperInvariant(s[0]).ToString(), s[1..].ToLowerInvariant());

    /// <summary>Python's <c>str.replace(old, new, count)</c>; a negative count replaces all.</summary>
    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0)
            return old.Length == 0 ? InsertBetweenAll(s, replacement) : s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, from, StringComparison.Ordinal);
            if (at < 0 || (old.Length == 0 && at >= s.Length))
                break;
            sb.Append(s, from, at - from).Append(replacement);
            if (old.Length == 0)
            {
                sb.Append(s[at]);
                from = at + 1;
            }
            else
            {
                from = at + old.Length;
            }
        }
        return sb.Append(s, from, s.Length - from).ToString();
    }

    private static string InsertBetweenAll(string s, string insert)
    {
        var sb = new StringBuilder(insert);
        foreach (char c in s)
            sb.Append(c).Append(insert);
        return sb.ToString();
    }

    private static long CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0)
            return s.Length + 1;
        long n = 0;
        for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal))
            n++;
        return n;
    }
}
