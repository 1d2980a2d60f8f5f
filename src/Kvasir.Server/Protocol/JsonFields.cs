using System.Globalization;
using System.Text.Json;

namespace Kvasir.Server.Protocol;

/// <summary>
/// Typed reads of request fields that fail with a 400 naming the field, the expected type or range, and what was
/// sent. Absent fields and JSON null read as null (OpenAI treats an explicit null as "not given").
/// </summary>
public static class JsonFields
{
    /// <summary>The field's value when present and not null.</summary>
    public static bool TryGet(JsonElement obj, string name, out JsonElement value)
    {
        if (obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>A string field.</summary>
    public static string? String(JsonElement obj, string name, string? path = null)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw WrongType(path ?? name, "a string", v);
    }

    /// <summary>A boolean field.</summary>
    public static bool? Bool(JsonElement obj, string name, string? path = null)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(path ?? name, "a boolean", v),
        };
    }

    /// <summary>An integer field in [min, max] (a number with no fractional part).</summary>
    public static int? Int(JsonElement obj, string name, int min, int max, string? path = null)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        return Int(v, min, max, path ?? name);
    }

    /// <summary>An integer value in [min, max].</summary>
    public static int Int(JsonElement v, int min, int max, string path)
    {
        if (v.ValueKind != JsonValueKind.Number)
        {
            throw WrongType(path, "an integer", v);
        }

        // 3 and 3.0 are both the integer 3; 3.5, 1e300 and anything beyond long are not integers we can take.
        if (!v.TryGetInt64(out var l))
        {
            var d = v.GetDouble();
            if (d != Math.Floor(d) || Math.Abs(d) > 9e18)
            {
                throw ApiException.BadRequest($"{path} must be an integer in [{min}, {max}], got {v.GetRawText()}.", path);
            }

            l = (long)d;
        }

        if (l < min || l > max)
        {
            throw ApiException.BadRequest($"{path} must be an integer in [{min}, {max}], got {l}.", path);
        }

        return (int)l;
    }

    /// <summary>A 64-bit integer field (seeds); negative values and values up to 2^64-1 are both accepted.</summary>
    public static ulong? Seed(JsonElement obj, string name)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number)
        {
            throw WrongType(name, "an integer", v);
        }

        if (v.TryGetInt64(out var l))
        {
            return unchecked((ulong)l);
        }

        return v.TryGetUInt64(out var u) ? u : throw ApiException.BadRequest($"{name} must be a 64-bit integer, got {v.GetRawText()}.", name);
    }

    /// <summary>A number field in [min, max] (a NaN-free finite number).</summary>
    public static float? Float(JsonElement obj, string name, float min, float max, string? path = null)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        path ??= name;
        if (v.ValueKind != JsonValueKind.Number)
        {
            throw WrongType(path, "a number", v);
        }

        var d = v.GetDouble();
        if (!(d >= min && d <= max))
        {
            throw ApiException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"{path} must be a number in [{min}, {max}], got {v.GetRawText()}."), path);
        }

        return (float)d;
    }

    /// <summary>"a string", "an array", ... for messages.</summary>
    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>The 400 for a field of the wrong JSON type.</summary>
    public static ApiException WrongType(string path, string expected, JsonElement got)
        => ApiException.BadRequest($"{path} must be {expected}, got {Describe(got.ValueKind)}.", path);
}
