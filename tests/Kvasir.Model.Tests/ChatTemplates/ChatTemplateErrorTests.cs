using Kvasir.Model.ChatTemplates;

namespace Kvasir.Model.Tests.ChatTemplates;

/// <summary>
/// Syntax errors (with line, column and a snippet with a caret), render errors, <c>raise_exception</c>, and
/// the limits that keep a broken or hostile template from exhausting the stack or memory.
/// </summary>
public class ChatTemplateErrorTests
{
    private static ChatTemplateException ParseFails(string template)
    {
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(template));
        Assert.Equal(ChatTemplateErrorKind.Syntax, e.Kind);
        return e;
    }

    private static ChatTemplateException RenderFails(string template)
    {
        var parsed = ChatTemplate.Parse(template);
        return Assert.Throws<ChatTemplateException>(() => parsed.Render([new("user", "hi")], true, null, null));
    }

    [Fact]
    public void SyntaxErrorNamesLineAndColumnAndShowsTheLineWithACaret()
    {
        var e = ParseFails("line one\nline two {{ ok }}\n  {{ a + }} tail");
        Assert.Equal(3, e.Line);
        Assert.Equal(10, e.Column);
        Assert.Equal(
            "Chat template syntax error at line 3, column 10: Expected an expression, found '}}'.\n" +
            "      {{ a + }} tail\n" +
            "             ^",
            e.Message);
    }

    [Fact]
    public void UnclosedBlockPointsAtItsTag()
    {
        var e = ParseFails("{% if x %}\nabc");
        Assert.Equal(
            "Chat template syntax error at line 1, column 4: The 'if' tag is never closed: expected '{% elif %}' or '{% else %}' or '{% endif %}' before the end of the template.\n" +
            "    {% if x %}\n" +
            "       ^",
            e.Message);
    }

    [Fact]
    public void LongLinesShowAWindowAroundTheColumn()
    {
        string template = new string('x', 150) + "{{ a | bad }}" + new string('y', 150);
        var e = ParseFails(template);
        Assert.Equal(1, e.Line);
        Assert.Equal(158, e.Column);
        Assert.Equal(
            "Chat template syntax error at line 1, column 158: Unknown filter 'bad'.\n" +
            "    ..." + new string('x', 33) + "{{ a | bad }}" + new string('y', 34) + "...\n" +
            "    " + new string(' ', 3 + 33 + 7) + "^",
            e.Message);
    }

    [Theory]
    [InlineData("{{ x | nope }}", 1, 8, "Unknown filter 'nope'.")]
    [InlineData("{{ x is nope }}", 1, 9, "Unknown test 'nope'.")]
    [InlineData("{% if x %}{% endfor %}", 1, 14, "Unexpected 'endfor': no open block here expects it.")]
    [InlineData("{% endif %}", 1, 4, "Unexpected 'endif': no open block here expects it.")]
    [InlineData("{% for x in y %}{% else %}{% else %}{% endfor %}", 1, 30, "Unexpected 'else': no open block here expects it.")]
    [InlineData("{% if a %}{% else %}{% elif b %}{% endif %}", 1, 24, "Unexpected 'elif': no open block here expects it.")]
    [InlineData("{{ 'abc }}", 1, 4, "This string is never closed.")]
    [InlineData("{{ x ", 1, 1, "This expression is never closed; add '}}'.")]
    [InlineData("{% if x ", 1, 1, "This tag is never closed; add '%}'.")]
    [InlineData("a {# x", 1, 3, "This comment is never closed; add '#}'.")]
    [InlineData("{% raw %}x", 1, 1, "This 'raw' block is never closed; add '{% endraw %}'.")]
    [InlineData("{{ x $ y }}", 1, 6, "Unexpected character '$' inside a tag.")]
    [InlineData("{{ }}", 1, 4, "Expected an expression, found '}}'.")]
    [InlineData("{% include 'x' %}", 1, 4, "The 'include' tag is not supported in chat templates.")]
    [InlineData("{% call m() %}{% endcall %}", 1, 4, "The 'call' tag is not supported in chat templates.")]
    [InlineData("{% frobnicate %}", 1, 4, "Unknown tag 'frobnicate'.")]
    [InlineData("{% break %}", 1, 4, "'break' is only allowed inside a 'for' loop.")]
    [InlineData("{% for x in [1] %}{% macro m() %}{% continue %}{% endmacro %}{% endfor %}", 1, 37, "'continue' is only allowed inside a 'for' loop.")]
    [InlineData("{% set ns.x %}{% endset %}", 1, 13, "Expected '=', found '%}'.")]
    [InlineData("{{ f(a=1, 2) }}", 1, 11, "A positional argument cannot follow a keyword argument.")]
    [InlineData("{{ f(*args) }}", 1, 6, "'*args' and '**kwargs' in calls are not supported in chat templates.")]
    [InlineData("{% if x %}{% endif foo %}", 1, 20, "Expected '%}' to end the 'endif' tag, found 'foo'.")]
    [InlineData("{% for x in [1] recursive %}{% endfor %}", 1, 17, "Recursive loops are not supported in chat templates.")]
    public void SyntaxErrors(string template, int line, int column, string problem)
    {
        var e = ParseFails(template);
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
        Assert.StartsWith($"Chat template syntax error at line {line}, column {column}: {problem}\n", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{ 'a' + 1 }}", 1, 8, "Unsupported operand types for '+': 'str' and 'int'.")]
    [InlineData("{{ x + 1 }}", 1, 6, "Unsupported operand types for '+': 'undefined' and 'int' (a variable, key or attribute is undefined).")]
    [InlineData("{{ 'a' ~ 1 + 2 }}", 1, 12, "Unsupported operand types for '+': 'str' and 'int'.")]
    [InlineData("ok\n{{ nothing() }}", 2, 11, "'nothing' is undefined and cannot be called.")]
    [InlineData("{{ messages.nope() }}", 1, 17, "'nope' is undefined and cannot be called.")]
    [InlineData("{% set s = 'str' %}{% set s.x = 1 %}", 1, 23, "Cannot set 's.x': 's' is not a namespace(); only namespace attributes can be assigned.")]
    [InlineData("{{ [1, 'a'] | sort }}", 1, 15, "Filter 'sort': cannot order 'int' and 'str'.")]
    [InlineData("{{ 1 / 0 }}", 1, 6, "Division by zero.")]
    [InlineData("{{ 1 % 0 }}", 1, 6, "Integer modulo by zero.")]
    [InlineData("{{ 1 < 'a' }}", 1, 4, "'<' not supported between 'int' and 'str'.")]
    [InlineData("{% for a, b in [1, 2] %}{% endfor %}", 1, 4, "'int' object is not iterable.")]
    [InlineData("{% for a, b in [[1, 2, 3]] %}{% endfor %}", 1, 4, "Cannot unpack 3 values into 2 names (a, b).")]
    [InlineData("{{ 'abc'.split('') }}", 1, 15, "split() separator must be a non-empty string.")]
    [InlineData("{{ strftime_now() }}", 1, 16, "strftime_now() needs a format string such as \"%d %b %Y\".")]
    [InlineData("{{ range(1000000) }}", 1, 9, "range() of 1000000 items is more than the 100000 a chat template may make.")]
    [InlineData("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", 1, 20, "Macro calls nested deeper than 64 (is 'f' recursive without end?).")]
    [InlineData("{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}", 1, 35, "Macro 'f' takes 1 argument, got 2.")]
    [InlineData("{% macro f(a) %}{% endmacro %}{{ f(b=1) }}", 1, 35, "Macro 'f' has no parameter 'b'.")]
    [InlineData("{{ 'x' * 100000000 }}", 1, 8, "String repetition would exceed 16M characters.")]
    [InlineData("{{ 'ab' * 9000000000000000000 }}", 1, 9, "String repetition would exceed 16M characters.")]
    [InlineData("{{ [1, 2] * 9000000000000000000 }}", 1, 11, "List repetition would exceed 1M items.")]
    [InlineData("{{ range(-9000000000000000000, 9000000000000000000) }}", 1, 9, "range() of 1.8E+19 items is more than the 100000 a chat template may make.")]
    [InlineData("{{ {}.pop('k') }}", 1, 10, "KeyError: 'k'.")]
    [InlineData("{% for i in range(2000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", 1, 30, "The template ran more than 1000000 loop iterations.")]
    public void RenderErrors(string template, int line, int column, string problem)
    {
        var e = RenderFails(template);
        Assert.Equal(ChatTemplateErrorKind.Render, e.Kind);
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
        Assert.StartsWith($"Chat template error at line {line}, column {column}: {problem}\n", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RaiseExceptionRejectsTheConversationWithTheTemplatesMessage()
    {
        var e = RenderFails("{% if messages[0].role != 'system' %}{{ raise_exception('A system message must come first.') }}{% endif %}");
        Assert.Equal(ChatTemplateErrorKind.Rejected, e.Kind);
        Assert.Equal("The chat template rejected the conversation: A system message must come first.", e.Message);
        Assert.Null(e.Line);
        Assert.Null(e.Column);
    }

    [Fact]
    public void RaiseExceptionInsideAMacroStillRejects()
    {
        var e = RenderFails("{% macro check(m) %}{% if m.role == 'user' %}{{ raise_exception('no ' ~ m.role) }}{% endif %}{% endmacro %}{% for m in messages %}{{ check(m) }}{% endfor %}");
        Assert.Equal(ChatTemplateErrorKind.Rejected, e.Kind);
        Assert.Equal("The chat template rejected the conversation: no user", e.Message);
    }

    [Theory]
    [InlineData(300, '(', ')', 204)]
    [InlineData(300, '[', ']', 204)]
    public void DeepNestingIsASyntaxErrorNotAStackOverflow(int depth, char open, char close, int column)
    {
        var e = ParseFails("{{ " + new string(open, depth) + (open == '(' ? "1" : "") + new string(close, depth) + " }}");
        Assert.Equal(column, e.Column);
        Assert.Contains("The expression is nested more than 200 deep.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeepUnaryChainsAndTagNestingAreSyntaxErrors()
    {
        Assert.Contains("nested more than 200 deep", ParseFails("{{ " + string.Concat(Enumerable.Repeat("not ", 300)) + "1 }}").Message, StringComparison.Ordinal);
        Assert.Contains("nested more than 200 deep", ParseFails("{{ " + new string('-', 300) + "1 }}").Message, StringComparison.Ordinal);
        Assert.Contains("Tags are nested more than 200 deep", ParseFails(string.Concat(Enumerable.Repeat("{% if 1 %}", 300)) + string.Concat(Enumerable.Repeat("{% endif %}", 300))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NestingJustUnderTheLimitWorks()
    {
        Assert.Equal("1", ChatTemplate.Parse("{{ " + new string('(', 150) + "1" + new string(')', 150) + " }}").Render([], false, null, null));
    }

    [Fact]
    public void AnExtraVariableOfAnUnusableTypeIsAnArgumentError()
    {
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.ChatMl.Render([], false, null, null, new Dictionary<string, object?> { ["when"] = DateTime.UnixEpoch }));
        Assert.Contains("'when' has type DateTime", e.Message, StringComparison.Ordinal);
    }
}
