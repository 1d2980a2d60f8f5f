using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kvasir.Model.ChatTemplates;

internal static partial class TemplateValue
{
    private const int MaxExternalDepth = 64;

    /// <summary>
    /// Converts a value from outside the template (an extra variable, a message field) to a template value:
    /// integers to long, floating point to double, <see cref="JsonElement"/> and <see cref="JsonNode"/> trees,
    /// dictionaries with string keys to dicts, other sequences to lists, <see cref="ChatMessage"/> to a message dict.
    /// Containers are copied, so a template's <c>append</c> never changes the caller's data.
    /// </summary>
    /// <exception cref="ArgumentException">A value of a type a template cannot use.</exception>
    public static object? FromExternal(object? value, string name) => FromExternal(value, name, 0);

    private static object? FromExternal(object? value, string name, int depth)
    {
        if (depth > MaxExternalDepth)
            throw new ArgumentException($"Chat template variable '{name}' is nested more than {MaxExternalDepth} levels deep.", nameof(value));
        switch (value)
        {
            case null:
                return null;
            case string or bool or long or double or Undefined:
                return value;
            case int or short or sbyte or byte or ushort or uint:
                return Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
            case ulong u:
                return (long)u;
            case float f:
                return (double)f;
            case decimal m:
                return (double)m;
            case char c:
                return c.ToString();
            case JsonElement element:
                return FromJson(element, name, depth);
            case JsonNode node:
                return FromJsonNode(node, name, depth);
            case ChatMessage message:
                return MessageToDict(message, depth);
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var pair in pairs)
                    dict[pair.Key] = FromExternal(pair.Value, name, depth + 1);
                return dict;
            case IDictionary map:
                var converted = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (DictionaryEntry entry in map)
                    converted[entry.Key.ToString() ?? ""] = FromExternal(entry.Value, name, depth + 1);
                return converted;
            case IEnumerable items:
                var list = new List<object?>();
                foreach (object? item in items)
                    list.Add(FromExternal(item, name, depth + 1));
                return list;
            default:
                throw new ArgumentException(
                    $"Chat template variable '{name}' has type {value.GetType().Name}, which a template cannot use; pass strings, numbers, "
                    + "booleans, null, JSON (JsonElement or JsonNode), dictionaries with string keys or lists of these.", nameof(value));
        }
    }

    /// <summary>The dict a template sees as <c>message</c>: role, content, then the message's extra fields.</summary>
    public static Dictionary<string, object?> MessageToDict(ChatMessage message, int depth = 0)
    {
        var dict = new Dictionary<string, object?>(2 + (message.Fields?.Count ?? 0), StringComparer.Ordinal)
        {
            ["role"] = message.Role,
            ["content"] = message.Content,
        };
        if (message.Fields is not null)
        {
            foreach (var pair in message.Fields)
                dict[pair.Key] = FromExternal(pair.Value, pair.Key, depth + 1);
        }
        return dict;
    }

    private static object? FromJson(JsonElement element, string name, int depth)
    {
        if (depth > MaxExternalDepth)
            throw new ArgumentException($"Chat template variable '{name}' is nested more than {MaxExternalDepth} levels deep.", nameof(element));
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                    dict[property.Name] = FromJson(property.Value, name, depth + 1);
                return dict;
            case JsonValueKind.Array:
                var list = new List<object?>(element.GetArrayLength());
                foreach (var item in element.EnumerateArray())
                    list.Add(FromJson(item, name, depth + 1));
                return list;
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                return element.TryGetInt64(out long l) ? (object)l : element.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    private static object? FromJsonNode(JsonNode node, string name, int depth)
    {
        switch (node)
        {
            case JsonObject obj:
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var pair in obj)
                    dict[pair.Key] = pair.Value is null ? null : FromJsonNode(pair.Value, name, depth + 1);
                return dict;
            case JsonArray array:
                var list = new List<object?>(array.Count);
                foreach (var item in array)
                    list.Add(item is null ? null : FromJsonNode(item, name, depth + 1));
                return list;
            case JsonValue scalar:
                return scalar.TryGetValue(out JsonElement element) ? FromJson(element, name, depth) : FromExternal(scalar.GetValue<object>(), name, depth + 1);
            default:
                return null;
        }
    }
}
