using System.Globalization;

namespace Kvasir.Model.Gguf;

/// <summary>
/// One metadata value. Scalars are boxed .NET values of the matching type (byte, sbyte, ushort, short,
/// uint, int, float, bool, string, ulong, long, double); arrays are a typed .NET array
/// (for example string[] or float[]) with <see cref="ElementType"/> saying the GGUF element type.
/// </summary>
public sealed class GgufValue
{
    /// <summary>Creates a value.</summary>
    public GgufValue(GgufValueType type, object value, GgufValueType elementType = GgufValueType.UInt8)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    /// <summary>The GGUF type of the value.</summary>
    public GgufValueType Type { get; }

    /// <summary>For arrays: the type of the elements.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>The value: a boxed scalar, a string or a typed array.</summary>
    public object Value { get; }

    /// <summary>True when the value is an integer of any width.</summary>
    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16
        or GgufValueType.Int16 or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>Number of elements for arrays, 1 for scalars.</summary>
    public long Count => Value is Array a ? a.LongLength : 1;

    /// <summary>A short, human-readable rendering (arrays are abbreviated).</summary>
    public override string ToString()
    {
        if (Value is Array array)
        {
            var shown = new List<string>();
            for (var i = 0; i < Math.Min(array.Length, 6); i++)
            {
                shown.Add(Format(array.GetValue(i)));
            }

            var more = array.Length > 6 ? $", ... ({array.Length} items)" : string.Empty;
            return $"[{string.Join(", ", shown)}{more}]";
        }

        return Format(Value);
    }

    private static string Format(object? value) => value switch
    {
        string s => s.Length > 80 ? $"\"{s[..77].ReplaceLineEndings("\\n")}...\" ({s.Length} chars)" : $"\"{s.ReplaceLineEndings("\\n")}\"",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        null => "null",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };
}
