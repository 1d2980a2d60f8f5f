using System.Text.Json;
using Kvasir.Model.ChatTemplates;

namespace Kvasir.Model.Tests.ChatTemplates;

/// <summary>
/// The variables the construct tests render with (the same ones jinja_oracle.py was given for their expected
/// strings) and a fixed clock: 2024-07-26 15:04:05 UTC.
/// </summary>
internal static class ChatTemplateFixture
{
    public static readonly TimeProvider Clock = new FixedClock(new DateTimeOffset(2024, 7, 26, 15, 4, 5, TimeSpan.Zero));

    public static readonly ChatMessage[] Messages =
    [
        new("system", "Sys A"),
        new("user", "U1"),
        new("assistant", "A1"),
        new("user", "U2"),
    ];

    private const string UsersJson = """[{"name": "ann", "age": 30, "active": true}, {"name": "bob", "active": false}, {"name": "cy", "age": 19, "active": true}]""";

    private const string ParamsJson = """{"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}, "required": ["city"], "items": {"x": 1}}""";

    public static Dictionary<string, object?> Variables() => new()
    {
        ["users"] = JsonDocument.Parse(UsersJson).RootElement,
        ["params"] = JsonDocument.Parse(ParamsJson).RootElement,
    };

    /// <summary>Parses and renders with <see cref="Messages"/>, no generation prompt, no BOS/EOS, and <see cref="Variables"/>.</summary>
    public static string Render(string template) => ChatTemplate.Parse(template, Clock).Render(Messages, false, null, null, Variables());

    /// <summary>Parses and renders with the given variables and no messages.</summary>
    public static string Render(string template, Dictionary<string, object?> variables)
        => ChatTemplate.Parse(template, Clock).Render([], false, null, null, variables);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
