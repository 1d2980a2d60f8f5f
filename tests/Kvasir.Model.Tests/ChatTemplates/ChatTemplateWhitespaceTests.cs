namespace Kvasir.Model.Tests.ChatTemplates;

/// <summary>
/// Whitespace control: '-' markers, trim_blocks, lstrip_blocks, '+' markers, newline normalization and the dropped trailing newline.
/// Every expected string is what Jinja2 3.1.6 renders under Hugging Face's apply_chat_template settings
/// (produced with jinja_oracle.py next to this file) for the variables in <see cref="ChatTemplateFixture"/>.
/// </summary>
public class ChatTemplateWhitespaceTests
{
    [Theory]
    [InlineData("a\n{% if true %}\nb\n{% endif %}\nc\n", "a\nb\nc")]
    [InlineData("a\n  {% if true %}\n  b\n  {% endif %}\nc", "a\n  b\nc")]
    [InlineData("  {% if true %}x{% endif %}  \ny", "x  \ny")]
    [InlineData("a  {% if true %}  b  {% endif %}  c", "a    b    c")]
    [InlineData("a\n  {{ 'x' }}\n  b", "a\n  x\n  b")]
    [InlineData("a\n  {%- if true -%}\n  b\n  {%- endif -%}\n  c", "abc")]
    [InlineData("a  {{- 'x' -}}  b\n\n  {{- 'y' }}\n", "axby")]
    [InlineData("{%+ if true %}\n  x{% endif +%}\nz", "  x\nz")]
    [InlineData("  {%+ if true %}x{% endif %}", "  x")]
    [InlineData("a\n  {# c #}\nb\n  {#- c -#}  \n d", "a\nbd")]
    [InlineData("line1\n\t{% for i in [1, 2] %}\n\t- {{ i }}\n\t{% endfor %}\nend", "line1\n\t- 1\n\t- 2\nend")]
    [InlineData("{% for i in [1, 2] -%}\n  {{ i }}\n{%- endfor %}", "12")]
    [InlineData("{{ 'a' }}\n{{ 'b' }}\n", "a\nb")]
    [InlineData("x\r\ny\r\n{% if true %}\r\nz\r\n{% endif %}\r\n", "x\ny\nz\n")]
    [InlineData("{% raw -%}  {{ x }}  {%- endraw %}|\n{% raw %}\na{% endraw %}\nb", "{{ x }}|\n\nab")]
    [InlineData("{% set x -%}\n  hi\n{%- endset %}[{{ x }}]", "[hi]")]
    [InlineData("a {%- set x = 1 %} b", "a b")]
    [InlineData("  {% macro f() %}\n  in\n  {% endmacro %}\n[{{ f() }}]", "[  in\n]")]
    [InlineData("{%- if true %}   \n  x\n{%- endif %}", "   \n  x")]
    [InlineData("{% if true %}   \nx{% endif %}", "   \nx")]
    [InlineData("{% if true %}\t\n{% endif %}y", "\t\ny")]
    [InlineData("a {# x #}\nb", "a b")]
    [InlineData("\n\n  {% if true %}\nx\n  {% endif %}\n\n", "\n\nx\n")]
    public void Whitespace(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));
}
