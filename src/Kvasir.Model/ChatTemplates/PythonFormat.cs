using System.Globalization;
using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>Python's three string-formatting mini-languages, as far as templates use them.</summary>
internal static class PythonFormat
{
    private static readonly string[] ShortDays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    private static readonly string[] LongDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] ShortMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private static readonly string[] LongMonths = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    /// <summary>
    /// <c>"fmt" % args</c> (and the <c>format</c> filter): <c>%s %r %d %i %f %x %%</c> with flags <c>-</c>
    /// and <c>0</c>, a width and a precision. A tuple supplies one argument per conversion.
    /// </summary>
    public static string Percent(string format, object? args)
    {
        IReadOnlyList<object?> values = args as object?[] ?? [args];
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%')
            {
                sb.Append(c);
                continue;
            }
            if (++i >= format.Length)
                throw new TemplateRuntimeException("Incomplete format: the string ends after '%'.");
            if (format[i] == '%')
            {
                sb.Append('%');
                continue;
            }
            bool left = false;
            bool zero = false;
            for (; i < format.Length && format[i] is '-' or '0' or '+' or ' '; i++)
            {
                left |= format[i] == '-';
                zero |= format[i] == '0';
            }
            int width = ReadNumber(format, ref i);
            int precision = -1;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                precision = Math.Max(0, ReadNumber(format, ref i));
            }
            if (i >= format.Length)
                throw new TemplateRuntimeException("Incomplete format: the string ends inside a '%' conversion.");
            if (next >= values.Count)
                throw new TemplateRuntimeException("Not enough arguments for format string.");
            object? value = values[next++];
            string text = format[i] switch
            {
                's' => TemplateValue.ToStr(value),
                'r' => TemplateValue.Repr(value),
                'd' or 'i' => TemplateValue.AsLong(value).ToString(CultureInfo.InvariantCulture),
                'f' or 'F' => TemplateValue.AsDouble(value).ToString("F" + (precision < 0 ? 6 : precision).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
                'x' => TemplateValue.AsLong(value).ToString("x", CultureInfo.InvariantCulture),
                'X' => TemplateValue.AsLong(value).ToString("X", CultureInfo.InvariantCulture),
                _ => throw new TemplateRuntimeException($"Unsupported format character '{format[i]}'."),
            };
            if (format[i] is 's' or 'r' && precision >= 0 && text.Length > precision)
                text = text[..precision];
            if (text.Length < width)
                text = left ? text.PadRight(width) : text.PadLeft(width, zero && format[i] is not ('s' or 'r') ? '0' : ' ');
            sb.Append(text);
        }
        if (next < values.Count)
            throw new TemplateRuntimeException("Not all arguments converted during string formatting.");
        return sb.ToString();
    }

    private static int ReadNumber(string s, ref int i)
    {
        int value = 0;
        bool any = false;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            value = Math.Min(10_000, (value * 10) + (s[i] - '0'));
            any = true;
        }
        return any ? value : 0;
    }

    /// <summary>
    /// <c>"...".format(...)</c>: <c>{}</c>, <c>{0}</c>, <c>{name}</c>, <c>{name.attr}</c> and <c>{{ }}</c> escapes.
    /// A format spec after ':' is not supported (the value is shown with <c>str</c>).
    /// </summary>
    public static string Braces(string format, CallArguments args)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c == '{' && i + 1 < format.Length && format[i + 1] == '{')
            {
                sb.Append('{');
                i++;
                continue;
            }
            if (c == '}' && i + 1 < format.Length && format[i + 1] == '}')
            {
                sb.Append('}');
                i++;
                continue;
            }
            if (c != '{')
            {
                sb.Append(c);
                continue;
            }
            int close = format.IndexOf('}', i);
            if (close < 0)
                throw new TemplateRuntimeException("Single '{' encountered in format string.");
            string field = format[(i + 1)..close];
            int colon = field.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
                field = field[..colon];
            string[] path = field.Split('.');
            object? value;
            if (path[0].Length == 0)
                value = args.Get(auto++, "\0");
            else if (int.TryParse(path[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                value = args.Get(index, "\0");
            else
                value = args.Get(-1, path[0], Undefined.Instance);
            for (int k = 1; k < path.Length; k++)
                value = TemplateAccess.GetAttribute(value, path[k]);
            sb.Append(TemplateValue.ToStr(value));
            i = close;
        }
        return sb.ToString();
    }

    /// <summary>
    /// Python's <c>strftime</c> for <c>strftime_now</c>: <c>%a %A %b %B %d %e %H %I %j %m %M %p %S %y %Y %Z %z %%</c>,
    /// with glibc's <c>%-d</c> (no padding) form; names are in English as in the C locale.
    /// </summary>
    public static string Strftime(DateTimeOffset time, string format)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length)
            {
                sb.Append(c);
                continue;
            }
            char spec = format[++i];
            bool pad = true;
            if (spec == '-' && i + 1 < format.Length)
            {
                pad = false;
                spec = format[++i];
            }
            int hour12 = time.Hour % 12 == 0 ? 12 : time.Hour % 12;
            sb.Append(spec switch
            {
                'a' => ShortDays[(int)time.DayOfWeek],
                'A' => LongDays[(int)time.DayOfWeek],
                'b' or 'h' => ShortMonths[time.Month - 1],
                'B' => LongMonths[time.Month - 1],
                'd' => Two(time.Day, pad),
                'e' => time.Day.ToString(CultureInfo.InvariantCulture).PadLeft(pad ? 2 : 1),
                'H' => Two(time.Hour, pad),
                'I' => Two(hour12, pad),
                'j' => pad ? time.DayOfYear.ToString("000", CultureInfo.InvariantCulture) : time.DayOfYear.ToString(CultureInfo.InvariantCulture),
                'm' => Two(time.Month, pad),
                'M' => Two(time.Minute, pad),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'S' => Two(time.Second, pad),
                'y' => Two(time.Year % 100, pad),
                'Y' => time.Year.ToString(CultureInfo.InvariantCulture),
                'Z' => time.Offset == TimeSpan.Zero ? "UTC" : "",
                'z' => (time.Offset < TimeSpan.Zero ? "-" : "+") + time.Offset.ToString("hhmm", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => "%" + spec,
            });
        }
        return sb.ToString();

        static string Two(int v, bool pad) => pad ? v.ToString("00", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);
    }
}
