namespace Kvasir.Model.Tests.ChatTemplates;

/// <summary>
/// Filters, tests (<c>is ...</c>) and Python methods on strings and dicts.
/// Every expected string is what Jinja2 3.1.6 renders under Hugging Face's apply_chat_template settings
/// (produced with jinja_oracle.py next to this file) for the variables in <see cref="ChatTemplateFixture"/>.
/// </summary>
public class ChatTemplateFilterTests
{
    [Theory]
    [InlineData("{{ x is defined }}|{{ x is undefined }}|{{ x is not defined }}|{{ not x is defined }}|{{ messages is defined }}", "False|True|True|True|True")]
    [InlineData("{{ none is none }}|{{ none is not none }}|{{ 0 is none }}", "True|False|False")]
    [InlineData("{{ 'a' is string }}|{{ 1 is string }}|{{ 1 is number }}|{{ 1.5 is number }}|{{ 1 is integer }}|{{ 1.0 is integer }}|{{ 1.0 is float }}|{{ true is boolean }}|{{ 1 is boolean }}", "True|False|True|True|True|False|True|True|False")]
    [InlineData("{{ {} is mapping }}|{{ [] is mapping }}|{{ [] is iterable }}|{{ 'a' is iterable }}|{{ 1 is iterable }}|{{ [] is sequence }}", "True|False|True|True|False|True")]
    [InlineData("{{ 1 is odd }}|{{ 2 is even }}|{{ 4 is divisibleby 2 }}|{{ 4 is divisibleby(3) }}", "True|True|True|False")]
    [InlineData("{{ 'a' is equalto 'a' }}|{{ 'a' is eq 'b' }}|{{ 3 is gt 2 }}|{{ 3 is lt 2 }}|{{ 3 is ge 3 }}|{{ 3 is le 2 }}|{{ 3 is ne 3 }}|{{ 2 is in [1, 2] }}", "True|False|True|False|True|False|False|True")]
    [InlineData("{{ 'abc' is lower }}|{{ 'ABC' is upper }}|{{ 'aBc' is lower }}|{{ 1 is sameas 1 }}|{{ false is false }}|{{ 0 is false }}|{{ true is true }}", "True|True|False|True|True|False|True")]
    [InlineData("{{ range is callable }}|{{ 'a' is callable }}", "True|False")]
    [InlineData("{{ x is iterable }}|{{ x is sequence }}|{{ x is mapping }}|{{ x is string }}", "True|True|False|False")]
    [InlineData("{{ 'x' if x is not defined and y is not defined else 'y' }}|{{ 1 if x is defined else 2 }}", "x|2")]
    public void Tests(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ '  hi  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ '\\n\\t hi \\n' | trim }}", "hi|hi|hi")]
    [InlineData("{{ 'Hello World' | lower }}|{{ 'hello world' | upper }}|{{ 'hELLO wORLD' | capitalize }}", "hello world|HELLO WORLD|Hello world")]
    [InlineData("{{ 'hello wORLD-foo(bar' | title }}|{{ \"they're bill's friends\" | title }}", "Hello World-Foo(Bar|They're Bill's Friends")]
    [InlineData("{{ 'aaa' | replace('a', 'b') }}|{{ 'aaa' | replace('a', 'b', 2) }}|{{ 'abc' | replace('', '-') }}", "bbb|bba|-a-b-c-")]
    [InlineData("{{ 42 | string }}|{{ none | string }}|{{ [1, 'a'] | string }}|{{ 3 | string + 'a' }}", "42|None|[1, 'a']|3a")]
    [InlineData("{{ 'ab' | indent(2) }}|{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}|{{ 'a\\nb' | indent('> ') }}", "ab|a\n  b\n\n  c|  a\n  b|a\n  \n  b|a\n> b")]
    [InlineData("{{ '<a href=\"x\">&\\'' | escape }}|{{ '<b>' | e }}|{{ '<b>' | safe }}", "&lt;a href=&#34;x&#34;&gt;&amp;&#39;|&lt;b&gt;|<b>")]
    [InlineData("{{ 'hello big world' | wordcount }}|{{ 'abc' | reverse }}|{{ 'a %s b %d' | format('X', 3) }}", "3|cba|a X b 3")]
    [InlineData("{{ 'abc' | length }}|{{ 'abc' | count }}|{{ 'abc' | first }}|{{ 'abc' | last }}|{{ 'ab' | list }}", "3|3|a|c|['a', 'b']")]
    public void StringFilters(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ '42' | int }}|{{ '4.7' | int }}|{{ 'x' | int }}|{{ 'x' | int(5) }}|{{ 3.9 | int }}|{{ -3.9 | int }}|{{ true | int }}|{{ none | int }}", "42|4|0|5|3|-3|1|0")]
    [InlineData("{{ '2.5' | float }}|{{ 3 | float }}|{{ 'x' | float }}|{{ 'x' | float(1.5) }}", "2.5|3.0|0.0|1.5")]
    [InlineData("{{ -3 | abs }}|{{ -2.5 | abs }}|{{ 2.5 | round }}|{{ 3.5 | round }}|{{ 3.14159 | round(2) }}|{{ 3 | round }}|{{ 2.1 | round(0, 'ceil') }}|{{ 2.9 | round(0, 'floor') }}|{{ 2.567 | round(1, 'floor') }}", "3|2.5|2.0|4.0|3.14|3|3.0|2.0|2.5")]
    [InlineData("{{ [1, 2, 3] | sum }}|{{ [1.5, 2] | sum }}|{{ [1, 5, 3] | max }}|{{ [4, 2, 8] | min }}|{{ [] | max }}", "6|3.5|5|2|")]
    public void NumberFilters(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ [1, 2, 3] | join(', ') }}|{{ [1, 2, 3] | join }}|{{ [none, 'a'] | join(',') }}|{{ users | join(',', attribute='name') }}", "1, 2, 3|123|None,a|ann,bob,cy")]
    [InlineData("{{ [1, 2, 3] | first }}|{{ [1, 2, 3] | last }}|{{ [] | first }}|{{ [1, 2] | count }}|{{ [1, 2] | length }}|{{ {'a': 1} | length }}", "1|3||2|2|1")]
    [InlineData("{{ x | default('d') }}|{{ none | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ 0 | default('d', boolean=true) }}|{{ x | d('e') }}", "d|None||d|d|e")]
    [InlineData("{{ users | selectattr('active') | map(attribute='name') | join(',') }}|{{ users | rejectattr('active') | map(attribute='name') | list }}", "ann,cy|['bob']")]
    [InlineData("{{ users | selectattr('name', 'equalto', 'bob') | list | length }}|{{ users | selectattr('age', 'defined') | map(attribute='name') | list }}|{{ users | rejectattr('age', 'undefined') | map(attribute='age') | list }}", "1|['ann', 'cy']|[30, 19]")]
    [InlineData("{{ users | map(attribute='age', default='?') | list }}|{{ users | map(attribute='name') | map('upper') | list }}|{{ [{'a': 1}, {'a': 2.5}] | sum(attribute='a') }}", "[30, '?', 19]|['ANN', 'BOB', 'CY']|3.5")]
    [InlineData("{{ [1, 2, 3, 4] | select('odd') | list }}|{{ [1, 2, 3, 4] | reject('even') | list }}|{{ [0, 1, '', 'a'] | select | list }}|{{ range(10) | select('divisibleby', 3) | list }}", "[1, 3]|[1, 3]|[1, 'a']|[0, 3, 6, 9]")]
    [InlineData("{{ ['a', 'B', 'c'] | map('upper') | list }}|{{ range(3) | map('string') | join('-') }}|{{ ['a', 'b'] | map('replace', 'a', 'z') | list }}", "['A', 'B', 'C']|0-1-2|['z', 'b']")]
    [InlineData("{{ [3, 1, 2] | sort }}|{{ ['b', 'A', 'c'] | sort }}|{{ ['b', 'A', 'c'] | sort(case_sensitive=true) }}|{{ [3, 1, 2] | sort(reverse=true) }}|{{ users | sort(attribute='name', reverse=true) | map(attribute='name') | join }}", "[1, 2, 3]|['A', 'b', 'c']|['A', 'b', 'c']|[3, 2, 1]|cybobann")]
    [InlineData("{{ ['a', 'A', 'b', 'a'] | unique | list }}|{{ ['a', 'A'] | unique(case_sensitive=true) | list }}|{{ [1, 2] | reverse | list }}", "['a', 'b']|['a', 'A']|[2, 1]")]
    [InlineData("{{ {'a': 1, 'b': 2} | items | list }}|{{ {'b': 1, 'a': 2} | dictsort }}|{{ {'z': 1, 'a': 3, 'm': 2} | dictsort(by='value', reverse=true) }}", "[('a', 1), ('b', 2)]|[('a', 2), ('b', 1)]|[('a', 3), ('m', 2), ('z', 1)]")]
    [InlineData("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('/') }}|{{ (messages | selectattr('role', 'equalto', 'user') | list | last).content }}|{{ messages | map(attribute='role') | unique | list }}", "U1/U2|U2|['system', 'user', 'assistant']")]
    [InlineData("{{ [1, 2, 3] | length - 1 }}|{{ -3 | abs }}|{{ [3, 2, 1] | sort | first }}", "2|3|1")]
    [InlineData("{{ users[0] | attr('name') }}|{{ [1, 2] | list }}|{{ {'a': 1} | list }}", "|[1, 2]|['a']")]
    public void SequenceFilters(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ {'a': 1, 'b': [1, 2], 'c': {'d': none, 'e': true}, 'f': 'x\"y\\n\\\\', 'g': 1.5} | tojson }}", "{\"a\": 1, \"b\": [1, 2], \"c\": {\"d\": null, \"e\": true}, \"f\": \"x\\\"y\\n\\\\\", \"g\": 1.5}")]
    [InlineData("{{ {'a': 1, 'b': [1, 2], 'c': {}, 'd': []} | tojson(indent=2) }}", "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2\n  ],\n  \"c\": {},\n  \"d\": []\n}")]
    [InlineData("{{ {'k': [{'a': 1}]} | tojson(indent=4) }}", "{\n    \"k\": [\n        {\n            \"a\": 1\n        }\n    ]\n}")]
    [InlineData("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ [1, 2] | tojson(separators=(',', ':')) }}", "{\"a\": 2, \"b\": 1}|[1,2]")]
    [InlineData("{{ 'é<>&\\'' | tojson }}|{{ 'é😀' | tojson(ensure_ascii=true) }}|{{ '\\u0001\\t' | tojson }}", "\"é<>&'\"|\"\\u00e9\\ud83d\\ude00\"|\"\\u0001\\t\"")]
    [InlineData("{{ 'x' | tojson }}|{{ 42 | tojson }}|{{ -5 | tojson }}|{{ 1.0 | tojson }}|{{ 1e20 | tojson }}|{{ none | tojson }}|{{ true | tojson }}|{{ (1, 'a') | tojson }}|{{ [] | tojson(indent=2) }}|{{ {} | tojson }}", "\"x\"|42|-5|1.0|1e+20|null|true|[1, \"a\"]|[]|{}")]
    [InlineData("{{ params | tojson }}", "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}, \"unit\": {\"type\": \"string\"}}, \"required\": [\"city\"], \"items\": {\"x\": 1}}")]
    public void Json(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));

    [Theory]
    [InlineData("{{ ' x '.strip() }}|{{ 'xxa'.lstrip('x') }}|{{ 'a\\n\\n'.rstrip('\\n') }}|{{ '\\n\\nthink\\n'.strip('\\n') }}", "x|a|a|think")]
    [InlineData("{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'abc'.startswith('b') }}", "True|True|False")]
    [InlineData("{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a-b-c'.rsplit('-', 1) }}|{{ ''.split(',') }}|{{ ''.split() }}", "['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|['a-b', 'c']|['']|[]")]
    [InlineData("{{ 'a<think>b</think>c'.split('</think>')[0].split('<think>')[-1] }}|{{ 'x\\ny\\r\\nz\\n'.splitlines() }}", "b|['x', 'y', 'z']")]
    [InlineData("{{ 'Hello'.upper() }}|{{ 'Hello'.lower() }}|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'aXbX'.replace('X', '-') }}|{{ 'aXbX'.replace('X', '-', 1) }}", "HELLO|hello|Hello World|Hello|a-b-|a-bX")]
    [InlineData("{{ 'abcabc'.find('c') }}|{{ 'abcabc'.rfind('c') }}|{{ 'abc'.find('z') }}|{{ 'abcabc'.count('bc') }}|{{ '123'.isdigit() }}|{{ 'AbC'.isupper() }}", "2|5|-1|2|True|False")]
    [InlineData("{{ ', '.join(['a', 'b']) }}|{{ '{} and {name}'.format(1, name='n') }}|{{ '{0}-{0}-{1}'.format('a', 'b') }}|{{ '{{x}}'.format() }}", "a, b|1 and n|a-a-b|{x}")]
    [InlineData("{{ '%s is %d' % ('x', 3) }}|{{ '%.2f' % 3.14159 }}|{{ '%5s|%-5s|%05d|%x|%r' % ('a', 'b', 42, 255, 'q') }}|{{ '%s' % [1, 2] }}|{{ '100%%' % () }}", "x is 3|3.14|    a|b    |00042|ff|'q'|[1, 2]|100%")]
    [InlineData("{{ {'a': 1}.keys() | list }}|{{ {'a': 1}.values() | list }}|{{ {'a': 1}.get('a') }}|{{ {'a': 1}.get('z', 'dflt') }}|{{ {'a': 1}.get('z') }}|{{ {'a': 1}.items() | list }}", "['a']|[1]|1|dflt|None|[('a', 1)]")]
    [InlineData("{{ messages[0].role.upper() }}|{{ messages[0]['role'].startswith('sys') }}|{{ (messages[0].content ~ '  ').rstrip() }}|{{ messages[-1]['content'].lower().replace('u', 'v') }}", "SYSTEM|True|Sys A|v2")]
    [InlineData("{{ 'removeprefix'.removeprefix('remove') }}|{{ 'a.txt'.removesuffix('.txt') }}", "prefix|a")]
    public void Methods(string template, string expected) => Assert.Equal(expected, ChatTemplateFixture.Render(template));
}
