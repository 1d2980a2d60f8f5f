using System.Globalization;
using System.Text;

namespace Kvasir.Model.ChatTemplates;

internal static partial class TemplateValue
{
    /// <summary>Python's <c>str(value)</c>, which is what <c>{{ value }}</c> outputs; undefined is "".</summary>
    public static string ToStr(object? value) => value switch
    {
        string s => s,
        null => "None",
        Undefined => "",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        _ => Repr(value),
    };

    /// <summary>Appends <see cref="ToStr"/> of the value without an intermediate string for the common cases.</summary>
    public static void AppendTo(StringBuilder output, object? value)
    {
        switch (value)
        {
            case string s:
                output.Append(s);
                break;
            case long l:
                output.Append(l);
                break;
            case Undefined:
                break;
            default:
                output.Append(ToStr(value));
                break;
        }
    }

    /// <summary>Python's <c>repr(value)</c>: strings quoted, lists and dicts in Python syntax.</summary>
    public static string Repr(object? value)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, value);
        return sb.ToString();
    }

    private static void AppendRepr(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case string s:
                AppendStringRepr(sb, s);
                break;
            case Undefined:
                sb.Append("Undefined");
                break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0)
                        sb.Append(", ");
                    AppendRepr(sb, list[i]);
                }
                sb.Append(']');
                break;
            case object?[] tuple:
                sb.Append('(');
                for (int i = 0; i < tuple.Length; i++)
                {
                    if (i > 0)
                        sb.Append(", ");
                    AppendRepr(sb, tuple[i]);
                }
                sb.Append(tuple.Length == 1 ? ",)" : ")");
                break;
            case Dictionary<string, object?> dict:
                AppendDictRepr(sb, dict);
                break;
            case TemplateNamespace ns:
                sb.Append("<Namespace ");
                AppendDictRepr(sb, ns.Attributes);
                sb.Append('>');
                break;
            case LoopContext:
                sb.Append("<LoopContext>");
                break;
            default:
                sb.Append(ToStr(value));
                break;
        }
    }

    private static void AppendDictRepr(StringBuilder sb, Dictionary<string, object?> dict)
    {
        sb.Append('{');
        bool first = true;
        foreach (var pair in dict)
        {
            if (!first)
                sb.Append(", ");
            first = false;
            AppendStringRepr(sb, pair.Key);
            sb.Append(": ");
            AppendRepr(sb, pair.Value);
        }
        sb.Append('}');
    }

    private static void AppendStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        sb.Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote)
                        sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f)
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append(quote);
    }

    /// <summary>
    /// Python's <c>repr(float)</c>: the shortest digits that round-trip, fixed notation for exponents from
    /// -4 to 15 ("1.0", "0.0001", "1e-05", "1e+16"), "inf" and "nan".
    /// </summary>
    public static string FloatRepr(double value)
    {
        if (double.IsNaN(value))
            return "nan";
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        if (value == 0)
            return double.IsNegative(value) ? "-0.0" : "0.0";

        // .NET's "R" gives the same shortest round-trip digits as Python; only the layout differs.
        string r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(['E', 'e']);
        string mantissa = e < 0 ? r : r[..e];
        int exponent = e < 0 ? 0 : int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = dot < 0 ? mantissa : string.Concat(mantissa.AsSpan(0, dot), mantissa.AsSpan(dot + 1));
        int point = (dot < 0 ? mantissa.Length : dot) + exponent;   // the decimal point sits after this many digits
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
            lead++;
        digits = digits[lead..].TrimEnd('0');
        point -= lead;
        if (digits.Length == 0)
            digits = "0";

        var sb = new StringBuilder();
        if (value < 0)
            sb.Append('-');
        int sciExponent = point - 1;
        if (sciExponent is >= -4 and < 16)
        {
            if (point <= 0)
                sb.Append("0.").Append('0', -point).Append(digits);
            else if (point >= digits.Length)
                sb.Append(digits).Append('0', point - digits.Length).Append(".0");
            else
                sb.Append(digits, 0, point).Append('.').Append(digits, point, digits.Length - point);
        }
        else
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(sciExponent < 0 ? '-' : '+').Append(Math.Abs(sciExponent).ToString("00", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
