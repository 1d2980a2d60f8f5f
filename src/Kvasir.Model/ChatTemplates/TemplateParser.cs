namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// Recursive-descent parser from tokens to statement nodes. This file holds the statements (tags); the
/// expression grammar, with Jinja's precedence, is in <c>TemplateParser.Expressions.cs</c>.
/// </summary>
internal sealed partial class TemplateParser
{
    private const int MaxNesting = 200;

    private static readonly string[] EndOfTemplate = [];

    private readonly string _source;
    private readonly List<TemplateToken> _tokens;
    private int _position;
    private int _nesting;
    private int _loopDepth;

    private TemplateParser(string source, List<TemplateToken> tokens)
    {
        _source = source;
        _tokens = tokens;
    }

    /// <summary>Parses a newline-normalized template source.</summary>
    /// <exception cref="ChatTemplateException">The source is not valid template syntax.</exception>
    public static TemplateNode[] Parse(string source)
    {
        var parser = new TemplateParser(source, TemplateLexer.Tokenize(source));
        return parser.ParseBody(EndOfTemplate, null, out _);
    }

    private TemplateToken Current => _tokens[_position];

    private TemplateToken Next => _tokens[Math.Min(_position + 1, _tokens.Count - 1)];

    private TemplateToken Advance() => _tokens[_position++];

    private ChatTemplateException Error(int offset, string problem)
        => ChatTemplateException.AtOffset(ChatTemplateErrorKind.Syntax, _source, offset, problem);

    private ChatTemplateException Unexpected(string expected)
        => Error(Current.Offset, $"Expected {expected}, found {Current.Describe()}.");

    private void ExpectOperator(string op)
    {
        if (!Current.IsOperator(op))
            throw Unexpected($"'{op}'");
        _position++;
    }

    private void ExpectBlockEnd(string tag)
    {
        if (Current.Kind != TemplateTokenKind.BlockEnd)
            throw Error(Current.Offset, $"Expected '%}}' to end the '{tag}' tag, found {Current.Describe()}.");
        _position++;
    }

    private string ExpectName(string what)
    {
        if (Current.Kind != TemplateTokenKind.Name)
            throw Unexpected(what);
        return Advance().Value;
    }

    // Parses statements until one of endTags opens a tag ("{% endif", "{% elif", ...); consumes "{%" and the
    // tag name and returns which it was, leaving the rest of that tag to the caller.
    private TemplateNode[] ParseBody(string[] endTags, TemplateToken? opener, out string endTag)
    {
        var nodes = new List<TemplateNode>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case TemplateTokenKind.End:
                    if (opener is { } open)
                        throw Error(open.Offset, $"The '{open.Value}' tag is never closed: expected {Quote(endTags)} before the end of the template.");
                    endTag = "";
                    return [.. nodes];
                case TemplateTokenKind.Text:
                    nodes.Add(new TextNode(token.Value, token.Offset));
                    _position++;
                    break;
                case TemplateTokenKind.VariableBegin:
                    _position++;
                    var expression = ParseTuple(allowConditional: true);
                    if (Current.Kind != TemplateTokenKind.VariableEnd)
                        throw Unexpected("'}}'");
                    _position++;
                    nodes.Add(new OutputNode(expression, token.Offset));
                    break;
                case TemplateTokenKind.BlockBegin:
                    if (Next.Kind != TemplateTokenKind.Name)
                        throw Error(Next.Offset, $"Expected a tag name after '{{%', found {Next.Describe()}.");
                    string name = Next.Value;
                    if (Array.IndexOf(endTags, name) >= 0)
                    {
                        _position += 2;
                        endTag = name;
                        return [.. nodes];
                    }
                    nodes.Add(ParseStatement());
                    break;
                default:
                    throw Error(token.Offset, $"Unexpected {token.Describe()}.");
            }
        }
    }

    private TemplateNode ParseStatement()
    {
        _position++;
        var tag = Advance();
        if (++_nesting > MaxNesting)
            throw Error(tag.Offset, $"Tags are nested more than {MaxNesting} deep.");
        try
        {
            switch (tag.Value)
            {
                case "if":
                    return ParseIf(tag);
                case "for":
                    return ParseFor(tag);
                case "set":
                    return ParseSet(tag);
                case "macro":
                    return ParseMacro(tag);
                case "break" or "continue":
                    if (_loopDepth == 0)
                        throw Error(tag.Offset, $"'{tag.Value}' is only allowed inside a 'for' loop.");
                    ExpectBlockEnd(tag.Value);
                    return new LoopControlNode(tag.Value == "break" ? LoopControl.Break : LoopControl.Continue, tag.Offset);
                case "do":
                    var expression = ParseTuple(allowConditional: true);
                    ExpectBlockEnd("do");
                    return new DoNode(expression, tag.Offset);
                case "with":
                    return ParseWith(tag);
                case "generation":
                    ExpectBlockEnd("generation");
                    var body = ParseBody(["endgeneration"], tag, out _);
                    ExpectBlockEnd("endgeneration");
                    return new ScopeNode([], [], body, newFrame: false, tag.Offset);
                case "include" or "import" or "from" or "extends" or "block" or "call" or "filter" or "autoescape":
                    throw Error(tag.Offset, $"The '{tag.Value}' tag is not supported in chat templates.");
                default:
                    throw Error(tag.Offset, tag.Value.StartsWith("end", StringComparison.Ordinal) || tag.Value is "elif" or "else"
                        ? $"Unexpected '{tag.Value}': no open block here expects it."
                        : $"Unknown tag '{tag.Value}'.");
            }
        }
        finally
        {
            _nesting--;
        }
    }

    private IfNode ParseIf(TemplateToken tag)
    {
        var conditions = new List<Expression> { ParseExpression() };
        var branches = new List<TemplateNode[]>();
        ExpectBlockEnd("if");
        while (true)
        {
            branches.Add(ParseBody(["elif", "else", "endif"], tag, out string end));
            ExpectBlockEndAfter(end, conditions);
            if (end == "endif")
                return new IfNode([.. conditions], [.. branches], null, tag.Offset);
            if (end == "else")
            {
                var otherwise = ParseBody(["endif"], tag, out _);
                ExpectBlockEnd("endif");
                return new IfNode([.. conditions], [.. branches], otherwise, tag.Offset);
            }
        }
    }

    private void ExpectBlockEndAfter(string end, List<Expression> conditions)
    {
        if (end == "elif")
            conditions.Add(ParseExpression());
        ExpectBlockEnd(end);
    }

    private ForNode ParseFor(TemplateToken tag)
    {
        string[] targets = ParseTargets("for");
        if (!Current.IsName("in"))
            throw Unexpected("'in'");
        _position++;
        var iterable = ParseTuple(allowConditional: false);
        Expression? filter = null;
        if (Current.IsName("if"))
        {
            _position++;
            filter = ParseExpression();
        }
        if (Current.IsName("recursive"))
            throw Error(Current.Offset, "Recursive loops are not supported in chat templates.");
        ExpectBlockEnd("for");
        _loopDepth++;
        var body = ParseBody(["else", "endfor"], tag, out string end);
        _loopDepth--;
        TemplateNode[]? otherwise = null;
        if (end == "else")
        {
            ExpectBlockEnd("else");
            otherwise = ParseBody(["endfor"], tag, out _);
        }
        ExpectBlockEnd("endfor");
        return new ForNode(targets, iterable, filter, body, otherwise, tag.Offset);
    }

    // "x", "a, b" or "(a, b)"
    private string[] ParseTargets(string tag)
    {
        bool parenthesized = Current.IsOperator("(");
        if (parenthesized)
            _position++;
        var names = new List<string> { ExpectName($"a variable name after '{tag}'") };
        while (Current.IsOperator(","))
        {
            _position++;
            if (Current.Kind != TemplateTokenKind.Name || Current.Value == "in")
                break;
            names.Add(Advance().Value);
        }
        if (parenthesized)
            ExpectOperator(")");
        return [.. names];
    }

    private TemplateNode ParseSet(TemplateToken tag)
    {
        var first = Current;
        if (first.Kind == TemplateTokenKind.Name && Next.IsOperator("."))
        {
            _position += 2;
            string attribute = ExpectName("an attribute name after '.'");
            ExpectOperator("=");
            var value = ParseTuple(allowConditional: true);
            ExpectBlockEnd("set");
            return new SetNode([first.Value], attribute, value, tag.Offset);
        }
        string[] names = ParseTargets("set");
        if (Current.IsOperator("="))
        {
            _position++;
            var value = ParseTuple(allowConditional: true);
            ExpectBlockEnd("set");
            return new SetNode(names, null, value, tag.Offset);
        }
        if (names.Length != 1)
            throw Unexpected("'='");
        ExpectBlockEnd("set");
        var body = ParseBody(["endset"], tag, out _);
        ExpectBlockEnd("endset");
        return new BlockSetNode(names[0], body, tag.Offset);
    }

    private MacroNode ParseMacro(TemplateToken tag)
    {
        string name = ExpectName("a macro name");
        ExpectOperator("(");
        var parameters = new List<string>();
        var defaults = new List<Expression?>();
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0)
                ExpectOperator(",");
            if (Current.IsOperator(")"))
                break;
            parameters.Add(ExpectName("a parameter name"));
            if (Current.IsOperator("="))
            {
                _position++;
                defaults.Add(ParseExpression());
            }
            else
            {
                defaults.Add(null);
            }
        }
        _position++;
        ExpectBlockEnd("macro");
        int savedLoopDepth = _loopDepth;
        _loopDepth = 0;
        var body = ParseBody(["endmacro"], tag, out _);
        _loopDepth = savedLoopDepth;
        if (Current.Kind == TemplateTokenKind.Name && Current.Value == name)
            _position++;
        ExpectBlockEnd("endmacro");
        return new MacroNode(name, [.. parameters], [.. defaults], body, tag.Offset);
    }

    private ScopeNode ParseWith(TemplateToken tag)
    {
        var names = new List<string>();
        var values = new List<Expression>();
        while (Current.Kind != TemplateTokenKind.BlockEnd)
        {
            if (names.Count > 0)
                ExpectOperator(",");
            names.Add(ExpectName("a variable name"));
            ExpectOperator("=");
            values.Add(ParseExpression());
        }
        ExpectBlockEnd("with");
        var body = ParseBody(["endwith"], tag, out _);
        ExpectBlockEnd("endwith");
        return new ScopeNode([.. names], [.. values], body, newFrame: true, tag.Offset);
    }

    private static string Quote(string[] tags)
        => tags.Length == 1 ? $"'{{% {tags[0]} %}}'" : string.Join(" or ", Array.ConvertAll(tags, t => $"'{{% {t} %}}'"));
}
