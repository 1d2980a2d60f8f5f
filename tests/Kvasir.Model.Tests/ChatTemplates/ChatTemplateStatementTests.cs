namespace Kvasir.Model.Tests.ChatTemplates;

/// <summary>
/// Tags: if, for (loop variable, filter, else, unpacking, break/continue), set, namespace, macro, with, do, raw, comments, globals.
/// Every expected string is what Jinja2 3.1.6 renders under Hugging Face's apply_chat_template settings
/// (produced with jinja_oracle.py next to this file) for the variables in <see cref="ChatTemplateFixture"/>.
/// </summary>
public class ChatTemplateStatementTests
{
    [Theory]
    [InlineData("{% if false %}a{% elif 0 %}b{% elif 'x' %}c{% else %}d{% endif %}|{% if none %}a{% else %}b{% endif %}|{% if [] %}a{% elif {} %}b{% endif %}end", "c|b|end")]
    [InlineData("{% for x in [1, 2, 3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }};{% endfor %}", "10TrueFalse332;21FalseFalse321;32FalseTrue310;")]
    [InlineData("{% for x in [1, 2, 3] %}{{ loop.previtem }}>{{ x }}>{{ loop.nextitem }};{% endfor %}", ">1>2;1>2>3;2>3>;")]
    [InlineData("{% for o in [1, 2] %}{% for i in [1, 2] %}{{ o }}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}", "11121|21222|")]
    [InlineData("{% for x in [] %}a{% else %}empty{% endfor %}|{% for x in undefined_list %}{{ x }}{% else %}none{% endfor %}", "empty|none")]
    [InlineData("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}:{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}", "2:1/2,4:2/2")]
    [InlineData("{%- for m in messages if m.role != 'system' -%}{{ loop.index }}:{{ m.role }}{{ ',' if not loop.last }}{%- endfor -%}", "1:user,2:assistant,3:user")]
    [InlineData("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}|{% for (k, v) in {'a': 1}.items() %}{{ k }}{{ v }}{% endfor %}", "37|a1")]
    [InlineData("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}|{% for k in {'z': 1, 'a': 2} %}{{ k }}{% endfor %}|{% for c in 'ab' %}{{ c }}.{% endfor %}", "a=1;b=2;|za|a.b.")]
    [InlineData("{% for k, v in params.properties.items() %}{{ k }}:{{ v.type }}{{ ' (required)' if k in params.required }};{% endfor %}", "city:string (required);unit:string;")]
    [InlineData("{% for x in [1, 2, 3, 4, 5] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", "13")]
    [InlineData("{% for x in 'ab' %}{{ x }}{{ loop.cycle('-', '+') }}{% endfor %}|{% for m in messages | reverse %}{{ m.role[0] }}{% endfor %}", "a-b+|uaus")]
    [InlineData("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}", "23|1")]
    [InlineData("{% if true %}{% set inside_if = 'visible' %}{% endif %}{{ inside_if }}|{% for m in messages %}{% set last = m.role %}{% endfor %}[{{ last }}]", "visible|[]")]
    [InlineData("{% set ns = namespace(total=0, found=false) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.total }}{{ ns.found }}", "6True")]
    [InlineData("{% set ns = namespace() %}{% set ns.x = 5 %}{{ ns.x }}|{{ namespace({'a': 1}, b=2).a }}{{ namespace({'a': 1}, b=2).b }}|{{ namespace(a=1).missing is defined }}", "5|12|False")]
    [InlineData("{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set t = (1, 2) %}{{ t }}|{% set l = [1, 2] %}{% set p, q = l %}{{ q }}", "12|(1, 2)|2")]
    [InlineData("{% set block %}Hello {{ users[0].name }}!{% endset %}[{{ block }}]", "[Hello ann!]")]
    [InlineData("{% macro greet(who, punct='!') %}Hi {{ who }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(who='c', punct='.') }} {{ greet() }}", "Hi a! Hi b? Hi c. Hi !")]
    [InlineData("{% macro py(spec) %}{% set m = {'string': 'str', 'integer': 'int'} %}{% if m[spec.type] is defined %}{{ m[spec.type] }}{% elif spec.type == 'array' %}list[{{ py(spec['items']) }}]{% elif spec.type is iterable %}Union[{% for t in spec.type %}{{ py({'type': t}) }}{{ ',' if not loop.last }}{% endfor %}]{% else %}Any{% endif %}{% endmacro %}{{ py({'type': 'array', 'items': {'type': 'array', 'items': {'type': ['string', 'integer']}}}) }}|{{ py({}) }}", "list[list[Union[str,int]]]|Union[]")]
    [InlineData("{% macro outer(x) %}[{{ inner(x) }}]{% endmacro %}{% macro inner(y) %}{{ y * 2 }}{% endmacro %}{{ outer(3) }}", "[6]")]
    [InlineData("{% set g = 'global' %}{% macro shows() %}{{ g }}{% endmacro %}{{ shows() }}|{% macro m(x) %}{% set g = 'local' %}{{ g }}{% endmacro %}{{ m(1) }}{{ g }}", "global|localglobal")]
    [InlineData("{% macro render(m, upper=false) -%}{{ m.role | upper if upper else m.role }}{%- endmacro %}{% for m in messages %}{{ render(m) }}{{ render(m, upper=true) }} {% endfor %}", "systemSYSTEM userUSER assistantASSISTANT userUSER ")]
    [InlineData("{# comment #}a{# multi\nline {{ x }} #}b|{% raw %}{{ not rendered }}{% endraw %}|{{ '{{' }}", "ab|{{ not rendered }}|{{")]
    [InlineData("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}|{{ a }}", "3|")]
    [InlineData("{% set items = [] %}{% do items.append(1) %}{% do items.append(2) %}{{ items }}|{% set t = [] %}{% for i in range(3) %}{% set _ = t.append(i * i) %}{% endfor %}{{ t }}", "[1, 2]|[0, 1, 4]")]
    [InlineData("{% set d = {} %}{% set _ = d.update({'a': 1}) %}{{ d }}|{{ d.pop('a') }}{{ d }}", "{'a': 1}|1{}")]
    [InlineData("{{ range(3) | list }}|{{ range(1, 10, 3) | list }}|{{ range(5, 0, -2) | list }}|{{ range(0) | list }}|{{ dict(a=1, b=2) }}", "[0, 1, 2]|[1, 4, 7]|[5, 3, 1]|[]|{'a': 1, 'b': 2}")]
    [InlineData("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j %I%p %y %a') }}|{{ strftime_now('%-d %B') }}", "26 Jul 2024|2024-07-26 15:04:05 Friday July 208 03PM 24 Fri|26 July")]
    [InlineData("{%- set loop_messages = messages[1:] -%}{%- for message in loop_messages -%}{{ message.role }}{{ loop.index0 % 2 }}{%- endfor -%}", "user0assistant1user0")]
    public void Statements(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));
}
