namespace Kvasir.Model.Tests.ChatTemplates;

/// <summary>
/// Expressions: literals, operators with Python semantics, access and slicing.
/// Every expected string is what Jinja2 3.1.6 renders under Hugging Face's apply_chat_template settings
/// (produced with jinja_oracle.py next to this file) for the variables in <see cref="ChatTemplateFixture"/>.
/// </summary>
public class ChatTemplateExpressionTests
{
    [Theory]
    [InlineData("{{ 'single' }}|{{ \"double\" }}|{{ 'adjacent' ' strings' }}", "single|double|adjacent strings")]
    [InlineData("{{ 'a\\tb\\u00e9\\x41\\101\\\\' }}|{{ \"it's\" }}|{{ 'q\\'s' }}", "a\tbéAA\\|it's|q's")]
    [InlineData("{{ 42 }}|{{ 1_000 }}|{{ 3.5 }}|{{ 1e3 }}|{{ 2.5e-7 }}", "42|1000|3.5|1000.0|2.5e-07")]
    [InlineData("{{ true }}|{{ True }}|{{ false }}|{{ False }}|{{ none }}|{{ None }}", "True|True|False|False|None|None")]
    [InlineData("{{ [1, 'a', none, true, 1.5] }}|{{ [] }}|{{ [1, 2,] }}", "[1, 'a', None, True, 1.5]|[]|[1, 2]")]
    [InlineData("{{ {'a': 1, 'b': 'x'} }}|{{ {} }}|{{ {'n': {'m': [1]}} }}", "{'a': 1, 'b': 'x'}|{}|{'n': {'m': [1]}}")]
    [InlineData("{{ (1,) }}|{{ (1, 2) }}|{{ () }}|{{ 1, 2 }}", "(1,)|(1, 2)|()|(1, 2)")]
    [InlineData("{{ ['it\\'s', 'x\"y', \"b'\\\"\"] }}", "[\"it's\", 'x\"y', 'b\\'\"']")]
    public void Literals(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ 1 + 2 }}|{{ 7 - 10 }}|{{ 6 * 7 }}|{{ 1.5 * 2 }}", "3|-3|42|3.0")]
    [InlineData("{{ 7 / 2 }}|{{ 6 / 2 }}|{{ 1 / 3 }}", "3.5|3.0|0.3333333333333333")]
    [InlineData("{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 10.0 // 4 }}", "3|-4|2.0")]
    [InlineData("{{ 10 % 4 }}|{{ -7 % 3 }}|{{ 7 % -3 }}|{{ 5.5 % 2 }}", "2|2|-2|1.5")]
    [InlineData("{{ 2 ** 10 }}|{{ 2 ** 0.5 }}|{{ 2 ** -1 }}", "1024|1.4142135623730951|0.5")]
    [InlineData("{{ -3 }}|{{ -(1 + 2) }}|{{ +4 }}|{{ - -5 }}", "-3|-3|4|5")]
    [InlineData("{{ 0.1 + 0.2 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 0.0001 }}|{{ 0.00001 }}|{{ 1.0 }}|{{ 123456789.125 }}|{{ 1e300 * 1e10 }}", "0.30000000000000004|1e+16|1000000000000000.0|0.0001|1e-05|1.0|123456789.125|inf")]
    [InlineData("{{ true + 1 }}|{{ 1 + 2.0 }}", "2|3.0")]
    [InlineData("{{ 'ab' * 3 }}|{{ 3 * 'ab' }}|{{ 'a' * 0 }}|{{ [0] * 3 }}|{{ [1] + [2] }}|{{ 'a' + 'b' }}", "ababab|ababab||[0, 0, 0]|[1, 2]|ab")]
    [InlineData("{{ 2 * 3 + 4 }}|{{ 2 + 3 * 4 }}|{{ (2 + 3) * 4 }}|{{ 2 * 3 ** 2 }}|{{ 10 - 2 - 3 }}", "10|14|20|18|5")]
    public void Arithmetic(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ 'a' ~ 1 ~ none ~ true ~ 1.5 }}|{{ none ~ '' }}", "a1NoneTrue1.5|None")]
    [InlineData("{{ (1 + 2) ~ 3 }}|{{ 'a' ~ (1 + 2) }}|{{ 2 * 3 ~ 'x' }}", "33|a3|6x")]
    [InlineData("{{ 'x' ~ (y if false) ~ 'z' }}", "xz")]
    public void Concat(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ 'a' if true else 'b' }}|{{ 'a' if false }}|{{ 'a' if false else 'b' if true else 'c' }}", "a||b")]
    [InlineData("{{ not true }}|{{ not 1 == 2 }}|{{ not (1 in [1]) }}|{{ not not 'x' }}", "False|True|False|True")]
    [InlineData("{{ 0 or 'x' }}|{{ 1 and 'y' }}|{{ '' and 'y' }}|{{ none or [] or 'last' }}|{{ 'first' or undefined_thing }}", "x|y||last|first")]
    [InlineData("{{ 'yes' if messages else 'no' }}|{{ 'yes' if [] else 'no' }}|{{ 'yes' if {} else 'no' }}|{{ 'yes' if 0.0 else 'no' }}|{{ 'yes' if ' ' else 'no' }}", "yes|no|no|no|yes")]
    [InlineData("{{ true and false or true }}|{{ true or false and false }}", "True|True")]
    public void Logic(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 1 < 2 > 1 }}|{{ 'a' == 'a' == 'a' }}", "True|False|True|True")]
    [InlineData("{{ 1 == 1.0 }}|{{ true == 1 }}|{{ 1 != 1 }}|{{ none == none }}|{{ 'abc' > 'abd' }}|{{ 2 >= 2.0 }}|{{ 'B' < 'a' }}", "True|True|False|True|False|True|True")]
    [InlineData("{{ (1, 2) == (1, 2) }}|{{ [1, 2] == [1, 2] }}|{{ [1, 2] == (1, 2) }}|{{ {'a': 1} == {'a': 1} }}|{{ [1, 2] < [1, 3] }}", "True|True|False|True|True")]
    [InlineData("{{ 'a' in 'abc' }}|{{ 'd' not in 'abc' }}|{{ 1 in [1, 2] }}|{{ [1] in [[1], 2] }}|{{ 'k' in {'k': 1} }}|{{ 'v' in {'k': 'v'} }}", "True|True|True|True|True|False")]
    public void Comparison(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ messages[0]['role'] }}|{{ messages[0].content }}|{{ messages[-1].role }}|{{ messages | length }}", "system|Sys A|user|4")]
    [InlineData("{{ params.properties.city.type }}|{{ params['properties']['unit']['type'] }}|{{ params['items'] }}|{{ params.items is defined }}", "string|string|{'x': 1}|True")]
    [InlineData("{{ messages[0].missing is defined }}|{{ messages[0]['missing'] is defined }}|{{ [1, 2, 3][5] is defined }}|{{ 'abc'[1] }}|{{ 'abc'[-1] }}", "False|False|False|b|c")]
    [InlineData("{{ {'a': {'b': 1}} }}|{{ {'a': {'b': 1}}['a'] }}|{{ {'a': {'b': 1}}.a.b }}", "{'a': {'b': 1}}|{'b': 1}|1")]
    public void Access(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ [1, 2, 3, 4, 5][1:3] }}|{{ [1, 2, 3][::-1] }}|{{ [1, 2, 3, 4, 5][::2] }}|{{ [1, 2, 3][:-1] }}|{{ [1, 2, 3][-2:] }}", "[2, 3]|[3, 2, 1]|[1, 3, 5]|[1, 2]|[2, 3]")]
    [InlineData("{{ 'hello'[1:] }}|{{ 'hello'[::-1] }}|{{ 'abc'[-2:] }}|{{ 'hello'[1:4:2] }}|{{ 'hello'[10:] }}|{{ 'hello'[-10:2] }}", "ello|olleh|bc|el||he")]
    [InlineData("{{ (1, 2, 3)[1:] }}|{{ [1, 2, 3, 4][3:0:-1] }}|{{ [1, 2, 3, 4][:0:-2] }}", "(2, 3)|[4, 3, 2]|[4, 2]")]
    [InlineData("{{ messages[1:] | map(attribute='role') | join(',') }}|{{ messages[::-1][0].role }}", "user,assistant,user|user")]
    [InlineData("{{ '😀ab'[::-1] }}|{{ '😀ab' | length }}", "ba😀|3")]
    public void Slicing(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));
}
