using System.Text.Json;
using System.Text.Json.Nodes;
using Kvasir.Model.ChatTemplates;
using Kvasir.Model.Making;

namespace Kvasir.Model.Tests.ChatTemplates;

/// <summary>
/// The public surface: the ChatML fallback, the standard variables, message fields, how values from outside
/// are converted, the lenient undefined, the injected clock, and rendering from many threads.
/// </summary>
public class ChatTemplateApiTests
{
    private static readonly ChatMessage[] Conversation = [new("system", "Be brief."), new("user", "Hi"), new("assistant", "Hello"), new("user", "Bye")];

    private static string Render(string template, IReadOnlyList<ChatMessage>? messages = null, bool addGenerationPrompt = false, string? bos = null, string? eos = null, Dictionary<string, object?>? extra = null)
        => ChatTemplate.Parse(template, ChatTemplateFixture.Clock).Render(messages ?? [], addGenerationPrompt, bos, eos, extra);

    [Fact]
    public void ChatMlWithAndWithoutGenerationPrompt()
    {
        const string turns = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n";
        Assert.Equal(turns + "<|im_start|>assistant\n", ChatTemplate.ChatMl.Render(Conversation, true, null, null));
        Assert.Equal(turns, ChatTemplate.ChatMl.Render(Conversation, false, null, null));
        Assert.Equal("<|im_start|>assistant\n", ChatTemplate.ChatMl.Render([], true, null, null));
        Assert.Equal("", ChatTemplate.ChatMl.Render([], false, null, null));
    }

    [Fact]
    public void ChatMlMatchesTheTemplateModelMakerWritesIntoTestModels()
    {
        var made = ChatTemplate.Parse(new MakeModelOptions().ChatTemplate!);
        Assert.Equal(ChatTemplate.ChatMl.Render(Conversation, true, null, null), made.Render(Conversation, true, null, null));
        Assert.Equal(ChatTemplate.ChatMlSource, ChatTemplate.ChatMl.Source);
    }

    [Fact]
    public void SourceIsKeptAsGiven()
    {
        const string source = "a\r\n{{ 'b' }}\n";
        var template = ChatTemplate.Parse(source);
        Assert.Equal(source, template.Source);
        Assert.Equal("a\nb", template.Render([], false, null, null));
    }

    [Fact]
    public void StandardVariables()
    {
        const string template = "{{ add_generation_prompt }}|{{ bos_token }}|{{ eos_token }}|{{ bos_token is defined }}|{{ tools is none }}|{{ documents is none }}|{{ messages | length }}";
        Assert.Equal("True|<s>|</s>|True|True|True|4", Render(template, Conversation, true, "<s>", "</s>"));
        Assert.Equal("False|||False|True|True|0", Render(template));
    }

    [Fact]
    public void ExtraVariablesAreAddedAndMayReplaceStandardOnes()
    {
        var extra = new Dictionary<string, object?> { ["tools"] = new List<object?> { "t" }, ["enable_thinking"] = false, ["messages"] = "replaced" };
        Assert.Equal("['t']|False|replaced", Render("{{ tools }}|{{ enable_thinking }}|{{ messages }}", Conversation, extra: extra));
    }

    [Fact]
    public void MessageFieldsAreAddedAndMayReplaceContent()
    {
        ChatMessage[] messages =
        [
            new("assistant", "ignored") { Fields = new Dictionary<string, object?> { ["content"] = null, ["tool_calls"] = new List<object?> { new Dictionary<string, object?> { ["name"] = "f" } } } },
            new("tool", "42") { Fields = new Dictionary<string, object?> { ["tool_call_id"] = "call_1", ["name"] = "f" } },
        ];
        const string template = "{% for m in messages %}{{ m.role }}:{{ m.content is none }}:{{ 'tool_calls' in m }}:{{ m.tool_calls[0].name }}:{{ m.tool_call_id }}:{{ m.name }};{% endfor %}";
        Assert.Equal("assistant:True:True:f::;tool:False:False::call_1:f;", Render(template, messages));
    }

    [Fact]
    public void ContentThatIsNoneRendersAsNoneAsInJinja()
    {
        ChatMessage[] messages = [new("assistant", "x") { Fields = new Dictionary<string, object?> { ["content"] = null } }];
        Assert.Equal("[None]", Render("{% for m in messages %}[{{ m.content }}]{% endfor %}", messages));
    }

    [Fact]
    public void ExternalValuesAreConverted()
    {
        var extra = new Dictionary<string, object?>
        {
            ["i"] = 3,
            ["l"] = 4L,
            ["f"] = 1.5f,
            ["d"] = 2.25,
            ["m"] = 0.5m,
            ["b"] = true,
            ["s"] = "str",
            ["n"] = null,
            ["c"] = 'c',
            ["ints"] = new[] { 1, 2 },
            ["strings"] = new List<string> { "a", "b" },
            ["map"] = new Dictionary<string, int> { ["x"] = 1 },
            ["objects"] = new Dictionary<string, object?> { ["nested"] = new object?[] { 1, "two", null } },
            ["message"] = new ChatMessage("user", "hi"),
        };
        const string template = "{{ i + l }} {{ f + d + m }} {{ b }} {{ s }} {{ n }} {{ c }} {{ ints | tojson }} {{ strings }} {{ map.x }} {{ objects | tojson }} {{ message.role }}";
        Assert.Equal("7 4.25 True str None c [1, 2] ['a', 'b'] 1 {\"nested\": [1, \"two\", null]} user", Render(template, extra: extra));
    }

    [Fact]
    public void JsonElementsAndNodesAreConverted()
    {
        const string json = """{"a": 1, "b": [true, null, 2.5, "s"], "c": {"d": -7}}""";
        var extra = new Dictionary<string, object?>
        {
            ["element"] = JsonDocument.Parse(json).RootElement,
            ["node"] = JsonNode.Parse(json),
            ["built"] = new JsonObject { ["n"] = 5, ["list"] = new JsonArray(1, "x") },
        };
        const string expected = "{\"a\": 1, \"b\": [true, null, 2.5, \"s\"], \"c\": {\"d\": -7}}";
        Assert.Equal(expected + "|" + expected + "|{\"n\": 5, \"list\": [1, \"x\"]}|1|int", Render("{{ element | tojson }}|{{ node | tojson }}|{{ built | tojson }}|{{ element.a }}|{{ 'int' if element.a is integer }}", extra: extra));
    }

    [Fact]
    public void TemplatesWorkOnCopiesOfTheCallersData()
    {
        var list = new List<object?> { 1 };
        var extra = new Dictionary<string, object?> { ["xs"] = list };
        Assert.Equal("[1, 2]", Render("{% do xs.append(2) %}{{ xs }}", extra: extra));
        Assert.Single(list);
    }

    [Fact]
    public void UndefinedIsEmptyFalsyAndChainable()
    {
        Assert.Equal("[]|False|True|0", Render("[{{ nothing }}{{ nothing.deeper.still }}{{ nothing['k'][0] }}]|{{ nothing.x is defined }}|{{ not nothing }}|{{ nothing | length }}"));
        Assert.Equal("none|[]", Render("{% for x in nothing %}{{ x }}{% else %}none{% endfor %}|{{ nothing | list }}"));
        Assert.Equal("|", Render("{{ messages[0].role }}|{{ messages[5] }}"));
    }

    [Fact]
    public void NoneIteratesAsEmptyRatherThanFailing()
    {
        // Jinja would raise TypeError; servers commonly send "tool_calls": null, so this is kept lenient.
        Assert.Equal("empty", Render("{% for x in none %}{{ x }}{% else %}empty{% endfor %}"));
    }

    [Fact]
    public void StrftimeNowReadsTheInjectedClock()
    {
        Assert.Equal("26 Jul 2024|Friday 15:04", Render("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A %H:%M') }}"));
    }

    [Fact]
    public void GenerationTagRendersItsBody()
    {
        // Hugging Face's {% generation %} only marks assistant text for training masks.
        Assert.Equal("abcd", Render("a{% generation %}b{{ 'c' }}{% endgeneration %}d"));
    }

    [Fact]
    public void OneParsedTemplateRendersFromManyThreads()
    {
        var template = ChatTemplate.Parse(ChatTemplateFamilyTests.Qwen3);
        string expected = template.Render(Conversation, true, null, null);
        var results = new string[64];
        Parallel.For(0, results.Length, i => results[i] = template.Render(Conversation, true, null, null));
        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Fact]
    public void RenderingDoesNotChangeTheTemplate()
    {
        var template = ChatTemplate.Parse("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}{% set messages = [] %}");
        Assert.Equal("4", template.Render(Conversation, false, null, null));
        Assert.Equal("4", template.Render(Conversation, false, null, null));
    }
}
