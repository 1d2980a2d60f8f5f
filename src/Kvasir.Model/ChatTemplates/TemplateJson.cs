using System.Globalization;
using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// The <c>tojson</c> filter as Hugging Face defines it for chat templates: Python's <c>json.dumps</c> with
/// <c>ensure_ascii=False</c>, keys in insertion order, separators <c>", "</c> and <c>": "</c> (<c>","</c> and
/// <c>": "</c> with an indent), and no HTML escaping (plain Jinja's tojson sorts keys and escapes &lt;, &gt;, &amp;, ').
/// </summary>
internal static class TemplateJson
{
    private const int MaxDepth = 128;

    /// <summary>Serializes a template value.</summary>
    /// <param name="value">The value; undefined is written as null.</param>
    /// <param name="indent">Null for one line; otherwise the text of one indent level (Python's indent=4 is four spaces).</param>
    /// <param name="sortKeys">Sort dict keys (ordinal).</param>
    /// <param name="ensureAscii">Escape every non-ASCII character as \uXXXX.</param>
    /// <param name="itemSeparator">Between items; null for Python's default.</param>
    /// <param name="keySeparator">Between a key and its value; null for Python's default.</param>
    public static string Serialize(object? value, string? indent, bool sortKeys, bool ensureAscii, string? itemSeparator = null, string? keySeparator = null)
    {
        var writer = new Writer(new StringBuilder(), indent, sortKeys, ensureAscii, itemSeparator ?? (indent is null ? ", " : ","), keySeparator ?? ": ");
        writer.Write(value, 0);
        return writer.Output.ToString();
    }

    private readonly record struct Writer(StringBuilder Output, string? Indent, bool SortKeys, bool EnsureAscii, string ItemSeparator, string KeySeparator)
    {
        public void Write(object? value, int depth)
        {
            if (depth > MaxDepth)
                throw new TemplateRuntimeException($"tojson: the value is nested more than {MaxDepth} levels deep.");
            switch (value)
            {
                case null or Undefined:
                    Output.Append("null");
                    break;
                case bool b:
                    Output.Append(b ? "true" : "false");
                    break;
                case long l:
                    Output.Append(l.ToString(CultureInfo.InvariantCulture));
                    break;
                case double d:
                    Output.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : TemplateValue.FloatRepr(d));
                    break;
                case string s:
                    WriteString(s);
                    break;
                case List<object?> or object?[]:
                    var items = TemplateValue.AsSequence(value)!;
                    if (items.Count == 0)
                    {
                        Output.Append("[]");
                        break;
                    }
                    Output.Append('[');
                    for (int i = 0; i < items.Count; i++)
                    {
                        if (i > 0)
                            Output.Append(ItemSeparator);
                        NewLine(depth + 1);
                        Write(items[i], depth + 1);
                    }
                    NewLine(depth);
                    Output.Append(']');
                    break;
                case Dictionary<string, object?> dict:
                    WriteObject(dict, depth);
                    break;
                case TemplateNamespace ns:
                    WriteObject(ns.Attributes, depth);
                    break;
                default:
                    throw new TemplateRuntimeException($"Object of type '{TemplateValue.TypeName(value)}' is not JSON serializable.");
            }
        }

        private void WriteObject(Dictionary<string, object?> dict, int depth)
        {
            if (dict.Count == 0)
            {
                Output.Append("{}");
                return;
            }
            IEnumerable<KeyValuePair<string, object?>> pairs = dict;
            if (SortKeys)
            {
                var sorted = new List<KeyValuePair<string, object?>>(dict);
                sorted.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                pairs = sorted;
            }
            Output.Append('{');
            bool first = true;
            foreach (var pair in pairs)
            {
                if (!first)
                    Output.Append(ItemSeparator);
                first = false;
                NewLine(depth + 1);
                WriteString(pair.Key);
                Output.Append(KeySeparator);
                Write(pair.Value, depth + 1);
            }
            NewLine(depth);
            Output.Append('}');
        }

        private void NewLine(int depth)
        {
            if (Indent is null)
                return;
            Output.Append('\n');
            for (int i = 0; i < depth; i++)
                Output.Append(Indent);
        }

        private void WriteString(string s)
        {
            Output.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': Output.Append("\\\""); break;
                    case '\\': Output.Append("\\\\"); break;
                    case '\n': Output.Append("\\n"); break;
                    case '\r': Output.Append("\\r"); break;
                    case '\t': Output.Append("\\t"); break;
                    case '\b': Output.Append("\\b"); break;
                    case '\f': Output.Append("\\f"); break;
                    default:
                        if (c < 0x20 || (EnsureAscii && c > 0x7e))
                            Output.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else
                            Output.Append(c);
                        break;
                }
            }
            Output.Append('"');
        }
    }
}
