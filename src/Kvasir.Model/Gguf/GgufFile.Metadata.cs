using System.Globalization;

namespace Kvasir.Model.Gguf;

/// <summary>Typed access to metadata, with errors that name the key and the file.</summary>
public sealed partial class GgufFile
{
    /// <summary>A string value; a missing key or another type raises <see cref="ModelFormatException"/>.</summary>
    public string GetString(string key) => GetStringOrNull(key) ?? throw Missing(key, "a string");

    /// <summary>A string value or null when the key is absent.</summary>
    public string? GetStringOrNull(string key)
    {
        if (!_metadata.TryGetValue(key, out var v))
        {
            return null;
        }

        return v.Value as string ?? throw WrongType(key, v, "a string");
    }

    /// <summary>An integer value of any width; a missing key or another type raises.</summary>
    public long GetInteger(string key) => GetIntegerOrNull(key) ?? throw Missing(key, "an integer");

    /// <summary>An integer value of any width, or null when the key is absent.</summary>
    public long? GetIntegerOrNull(string key)
    {
        if (!_metadata.TryGetValue(key, out var v))
        {
            return null;
        }

        if (!v.IsInteger)
        {
            throw WrongType(key, v, "an integer");
        }

        if (v.Value is ulong u && u > long.MaxValue)
        {
            throw new ModelFormatException(FilePath, $"the value {u} is out of range.", $"key '{key}'", "The file is damaged: convert it again.");
        }

        return Convert.ToInt64(v.Value, CultureInfo.InvariantCulture);
    }

    /// <summary>A positive int value (dimensions, counts) within a sane range; raises when out of range.</summary>
    public int GetPositiveInt(string key, int max = 1 << 24) => CheckPositive(key, GetInteger(key), max);

    /// <summary>A positive int value or null when absent.</summary>
    public int? GetPositiveIntOrNull(string key, int max = 1 << 24)
    {
        var v = GetIntegerOrNull(key);
        return v is null ? null : CheckPositive(key, v.Value, max);
    }

    /// <summary>A floating-point value (integers are accepted), or null when absent.</summary>
    public float? GetFloatOrNull(string key)
    {
        if (!_metadata.TryGetValue(key, out var v))
        {
            return null;
        }

        return v.Value switch
        {
            float f => f,
            double d => (float)d,
            _ when v.IsInteger => Convert.ToSingle(v.Value, CultureInfo.InvariantCulture),
            _ => throw WrongType(key, v, "a number"),
        };
    }

    /// <summary>A bool value, or null when absent.</summary>
    public bool? GetBoolOrNull(string key)
    {
        if (!_metadata.TryGetValue(key, out var v))
        {
            return null;
        }

        return v.Value is bool b ? b : throw WrongType(key, v, "a bool");
    }

    /// <summary>An array value with elements of .NET type T, or null when absent; another type raises.</summary>
    public T[]? GetArrayOrNull<T>(string key)
    {
        if (!_metadata.TryGetValue(key, out var v))
        {
            return null;
        }

        return v.Value as T[] ?? throw WrongType(key, v, $"an array of {typeof(T).Name}");
    }

    /// <summary>An integer array of any integer element type, widened to int, or null when absent.</summary>
    public int[]? GetIntArrayOrNull(string key)
    {
        if (!_metadata.TryGetValue(key, out var v))
        {
            return null;
        }

        if (v.Value is int[] ints)
        {
            return ints;
        }

        if (v.Value is Array a && v.Type == GgufValueType.Array && v.ElementType is not (GgufValueType.String or GgufValueType.Float32 or GgufValueType.Float64 or GgufValueType.Bool))
        {
            var result = new int[a.Length];
            for (var i = 0; i < a.Length; i++)
            {
                result[i] = Convert.ToInt32(a.GetValue(i), CultureInfo.InvariantCulture);
            }

            return result;
        }

        throw WrongType(key, v, "an array of integers");
    }

    private int CheckPositive(string key, long value, int max)
    {
        if (value <= 0 || value > max)
        {
            throw new ModelFormatException(FilePath, $"the value {value} is out of range (expected 1 to {max}).", $"key '{key}'",
                "The file is damaged or not a model Kvasir supports: check its source.");
        }

        return (int)value;
    }

    private ModelFormatException Missing(string key, string expected)
        => new(FilePath, $"the metadata key '{key}' ({expected}) is missing.", $"key '{key}'",
            "The file was converted by an old or non-standard tool, or is for another architecture: convert it again with a current llama.cpp.");

    private ModelFormatException WrongType(string key, GgufValue v, string expected)
        => new(FilePath, $"the metadata key '{key}' has type {(v.Type == GgufValueType.Array ? $"array of {v.ElementType}" : v.Type.ToString())}, expected {expected}.",
            $"key '{key}'", "The file is damaged or non-standard: convert it again.");
}
