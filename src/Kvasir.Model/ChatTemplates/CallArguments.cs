namespace Kvasir.Model.ChatTemplates;

/// <summary>The evaluated arguments of a call, filter or test: positional first, then keyword.</summary>
internal sealed class CallArguments(List<object?> positional, List<KeyValuePair<string, object?>>? named)
{
    /// <summary>No arguments.</summary>
    public static readonly CallArguments Empty = new([], null);

    /// <summary>Positional arguments in order.</summary>
    public List<object?> Positional { get; } = positional;

    /// <summary>Keyword arguments in order, or null when there are none.</summary>
    public List<KeyValuePair<string, object?>>? Named { get; } = named;

    /// <summary>The argument at <paramref name="index"/> or named <paramref name="name"/>, else <paramref name="defaultValue"/>.</summary>
    public object? Get(int index, string name, object? defaultValue = null)
        => TryGet(index, name, out object? value) ? value : defaultValue;

    /// <summary>Finds the argument at <paramref name="index"/> or named <paramref name="name"/>.</summary>
    public bool TryGet(int index, string name, out object? value)
    {
        if (index >= 0 && index < Positional.Count)
        {
            value = Positional[index];
            return true;
        }
        if (Named is not null)
        {
            foreach (var pair in Named)
            {
                if (pair.Key == name)
                {
                    value = pair.Value;
                    return true;
                }
            }
        }
        value = null;
        return false;
    }

    /// <summary>Fails when more than <paramref name="max"/> positional arguments were given.</summary>
    public void ExpectAtMost(int max, string function)
    {
        if (Positional.Count > max)
            throw new TemplateRuntimeException($"{function} takes at most {max} positional argument{(max == 1 ? "" : "s")}, got {Positional.Count}.");
    }
}
