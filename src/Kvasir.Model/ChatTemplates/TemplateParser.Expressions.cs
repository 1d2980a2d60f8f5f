using System.Globalization;

namespace Kvasir.Model.ChatTemplates;

/// <remarks>
/// Jinja's precedence, loosest first:
/// <code>
/// a if c else b              ParseConditional
/// or / and / not             ParseOr, ParseAnd, ParseNot
/// == != &lt; &lt;= &gt; &gt;= in, not in  ParseCompare (chained)
/// + -                        ParseAdditive
/// ~                          ParseConcat
/// * / // %                   ParseMultiplicative
/// **                         ParsePower
/// unary - +                  ParseUnary
/// x.a x[i] x[a:b] x(...)     ParsePostfix
/// x | filter, x is test      ParseFilters (binds tighter than any binary operator: a + b | length = a + (b | length))
/// </code>
/// </remarks>
internal sealed partial class TemplateParser
{
    private static readonly HashSet<string> NotATestArgument = new(StringComparer.Ordinal) { "else", "or", "and", "if", "in", "not", "is", "for" };

    private int _expressionDepth;

    // An expression, or several separated by commas (a tuple), as Jinja allows in {{ }}, set and for.
    private Expression ParseTuple(bool allowConditional)
    {
        int offset = Current.Offset;
        var first = allowConditional ? ParseExpression() : ParseOr();
        if (!Current.IsOperator(","))
            return first;
        var items = new List<Expression> { first };
        while (Current.IsOperator(","))
        {
            _position++;
            if (Current.Kind is TemplateTokenKind.VariableEnd or TemplateTokenKind.BlockEnd or TemplateTokenKind.End
                || Current.IsOperator(")") || Current.IsName("if"))
                break;
            items.Add(allowConditional ? ParseExpression() : ParseOr());
        }
        return new TupleExpression([.. items], offset);
    }

    private Expression ParseExpression()
    {
        if (++_expressionDepth > MaxNesting)
            throw Error(Current.Offset, $"The expression is nested more than {MaxNesting} deep.");
        try
        {
            var e = ParseOr();
            while (Current.IsName("if"))
            {
                int offset = Current.Offset;
                _position++;
                var condition = ParseOr();
                Expression? otherwise = null;
                if (Current.IsName("else"))
                {
                    _position++;
                    otherwise = ParseExpression();
                }
                e = new ConditionalExpression(condition, e, otherwise, offset);
            }
            return e;
        }
        finally
        {
            _expressionDepth--;
        }
    }

    private Expression ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            int offset = Advance().Offset;
            left = new LogicalExpression(isAnd: false, left, ParseAnd(), offset);
        }
        return left;
    }

    private Expression ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            int offset = Advance().Offset;
            left = new LogicalExpression(isAnd: true, left, ParseNot(), offset);
        }
        return left;
    }

    private Expression ParseNot()
    {
        if (!Current.IsName("not"))
            return ParseCompare();
        int offset = Advance().Offset;
        Enter();
        try
        {
            return new UnaryExpression('!', ParseNot(), offset);
        }
        finally
        {
            _expressionDepth--;
        }
    }

    private Expression ParseCompare()
    {
        int offset = Current.Offset;
        var first = ParseAdditive();
        List<CompareOperator>? operators = null;
        List<Expression>? operands = null;
        while (true)
        {
            CompareOperator op;
            var t = Current;
            if (t.Kind == TemplateTokenKind.Operator && t.Value is "==" or "!=" or "<" or "<=" or ">" or ">=")
            {
                op = t.Value switch
                {
                    "==" => CompareOperator.Equal,
                    "!=" => CompareOperator.NotEqual,
                    "<" => CompareOperator.Less,
                    "<=" => CompareOperator.LessOrEqual,
                    ">" => CompareOperator.Greater,
                    _ => CompareOperator.GreaterOrEqual,
                };
                _position++;
            }
            else if (t.IsName("in"))
            {
                op = CompareOperator.In;
                _position++;
            }
            else if (t.IsName("not") && Next.IsName("in"))
            {
                op = CompareOperator.NotIn;
                _position += 2;
            }
            else
            {
                break;
            }
            (operators ??= []).Add(op);
            (operands ??= []).Add(ParseAdditive());
        }
        return operators is null ? first : new CompareExpression(first, [.. operators], [.. operands!], offset);
    }

    private Expression ParseAdditive()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            var op = Advance();
            left = new BinaryExpression(op.Value == "+" ? BinaryOperator.Add : BinaryOperator.Subtract, left, ParseConcat(), op.Offset);
        }
        return left;
    }

    private Expression ParseConcat()
    {
        var left = ParseMultiplicative();
        while (Current.IsOperator("~"))
        {
            var op = Advance();
            left = new BinaryExpression(BinaryOperator.Concat, left, ParseMultiplicative(), op.Offset);
        }
        return left;
    }

    private Expression ParseMultiplicative()
    {
        var left = ParsePower();
        while (Current.Kind == TemplateTokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            var op = Advance();
            var kind = op.Value switch
            {
                "*" => BinaryOperator.Multiply,
                "/" => BinaryOperator.Divide,
                "//" => BinaryOperator.FloorDivide,
                _ => BinaryOperator.Modulo,
            };
            left = new BinaryExpression(kind, left, ParsePower(), op.Offset);
        }
        return left;
    }

    private Expression ParsePower()
    {
        var left = ParseUnary(withFilters: true);
        while (Current.IsOperator("**"))
        {
            var op = Advance();
            left = new BinaryExpression(BinaryOperator.Power, left, ParseUnary(withFilters: true), op.Offset);
        }
        return left;
    }

    private Expression ParseUnary(bool withFilters)
    {
        Expression e;
        if (Current.IsOperator("-") || Current.IsOperator("+"))
        {
            var op = Advance();
            Enter();
            try
            {
                e = new UnaryExpression(op.Value[0], ParseUnary(withFilters: false), op.Offset);
            }
            finally
            {
                _expressionDepth--;
            }
        }
        else
        {
            e = ParsePrimary();
        }
        e = ParsePostfix(e);
        return withFilters ? ParseFilters(e) : e;
    }

    private void Enter()
    {
        if (++_expressionDepth > MaxNesting)
            throw Error(Current.Offset, $"The expression is nested more than {MaxNesting} deep.");
    }

    private Expression ParsePrimary()
    {
        var t = Current;
        switch (t.Kind)
        {
            case TemplateTokenKind.Name:
                _position++;
                return t.Value switch
                {
                    "true" or "True" => new LiteralExpression(true, t.Offset),
                    "false" or "False" => new LiteralExpression(false, t.Offset),
                    "none" or "None" => new LiteralExpression(null, t.Offset),
                    _ => new NameExpression(t.Value, t.Offset),
                };
            case TemplateTokenKind.String:
                _position++;
                string s = t.Value;
                while (Current.Kind == TemplateTokenKind.String)
                    s += Advance().Value;
                return new LiteralExpression(s, t.Offset);
            case TemplateTokenKind.Integer:
                _position++;
                if (long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long l))
                    return new LiteralExpression(l, t.Offset);
                // Python's integers are unbounded; a float keeps at least the magnitude.
                return new LiteralExpression(double.Parse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture), t.Offset);
            case TemplateTokenKind.Float:
                _position++;
                return new LiteralExpression(double.Parse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture), t.Offset);
            case TemplateTokenKind.Operator when t.Value == "(":
                _position++;
                if (Current.IsOperator(")"))
                {
                    _position++;
                    return new TupleExpression([], t.Offset);
                }
                var inner = ParseTuple(allowConditional: true);
                ExpectOperator(")");
                return inner;
            case TemplateTokenKind.Operator when t.Value == "[":
                _position++;
                var items = new List<Expression>();
                while (!Current.IsOperator("]"))
                {
                    if (items.Count > 0)
                        ExpectOperator(",");
                    if (Current.IsOperator("]"))
                        break;
                    items.Add(ParseExpression());
                }
                _position++;
                return new ListExpression([.. items], t.Offset);
            case TemplateTokenKind.Operator when t.Value == "{":
                _position++;
                var keys = new List<Expression>();
                var values = new List<Expression>();
                while (!Current.IsOperator("}"))
                {
                    if (keys.Count > 0)
                        ExpectOperator(",");
                    if (Current.IsOperator("}"))
                        break;
                    keys.Add(ParseExpression());
                    ExpectOperator(":");
                    values.Add(ParseExpression());
                }
                _position++;
                return new DictExpression([.. keys], [.. values], t.Offset);
            default:
                throw Error(t.Offset, $"Expected an expression, found {t.Describe()}.");
        }
    }

    private Expression ParsePostfix(Expression e)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("."))
            {
                _position++;
                var name = Current;
                if (name.Kind == TemplateTokenKind.Name)
                {
                    _position++;
                    e = new AttributeExpression(e, name.Value, t.Offset);
                }
                else if (name.Kind == TemplateTokenKind.Integer)
                {
                    _position++;
                    e = new SubscriptExpression(e, new LiteralExpression(long.Parse(name.Value, CultureInfo.InvariantCulture), name.Offset), t.Offset);
                }
                else
                {
                    throw Unexpected("an attribute name after '.'");
                }
            }
            else if (t.IsOperator("["))
            {
                _position++;
                e = ParseSubscript(e, t.Offset);
            }
            else if (t.IsOperator("("))
            {
                e = new CallExpression(e, ParseArguments(), t.Offset);
            }
            else
            {
                return e;
            }
        }
    }

    // After '[': x[i], x[a:b], x[a:b:c], x[::-1].
    private Expression ParseSubscript(Expression target, int offset)
    {
        Expression? start = Current.IsOperator(":") ? null : ParseExpression();
        if (Current.IsOperator("]"))
        {
            _position++;
            return new SubscriptExpression(target, start!, offset);
        }
        ExpectOperator(":");
        Expression? stop = Current.IsOperator(":") || Current.IsOperator("]") ? null : ParseExpression();
        Expression? step = null;
        if (Current.IsOperator(":"))
        {
            _position++;
            if (!Current.IsOperator("]"))
                step = ParseExpression();
        }
        ExpectOperator("]");
        return new SliceExpression(target, start, stop, step, offset);
    }

    private Expression ParseFilters(Expression e)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("|"))
            {
                _position++;
                var name = Current;
                string filterName = ExpectName("a filter name after '|'");
                if (!TemplateFilters.TryGet(filterName, out var filter))
                    throw Error(name.Offset, $"Unknown filter '{filterName}'.");
                var args = Current.IsOperator("(") ? ParseArguments() : ArgumentList.None;
                e = new FilterExpression(e, filterName, filter, args, name.Offset);
            }
            else if (t.IsName("is"))
            {
                _position++;
                bool negated = Current.IsName("not");
                if (negated)
                    _position++;
                var name = Current;
                string testName;
                if (name.Kind == TemplateTokenKind.Name)
                    testName = Advance().Value;
                else if (name.Kind == TemplateTokenKind.Operator && name.Value is "==" or "!=" or "<" or "<=" or ">" or ">=")
                    testName = Advance().Value;
                else
                    throw Unexpected("a test name after 'is'");
                if (!TemplatePredicates.TryGet(testName, out var test))
                    throw Error(name.Offset, $"Unknown test '{testName}'.");
                ArgumentList args;
                if (Current.IsOperator("("))
                {
                    args = ParseArguments();
                }
                else if (StartsTestArgument(Current))
                {
                    var arg = ParsePostfix(ParsePrimary());
                    args = new ArgumentList([arg], []);
                }
                else
                {
                    args = ArgumentList.None;
                }
                e = new TestExpression(e, testName, test, args, negated, name.Offset);
            }
            else if (t.IsOperator("("))
            {
                e = new CallExpression(e, ParseArguments(), t.Offset);
            }
            else
            {
                return e;
            }
        }
    }

    private static bool StartsTestArgument(TemplateToken t) => t.Kind switch
    {
        TemplateTokenKind.Name => !NotATestArgument.Contains(t.Value),
        TemplateTokenKind.String or TemplateTokenKind.Integer or TemplateTokenKind.Float => true,
        TemplateTokenKind.Operator => t.Value is "[" or "{",
        _ => false,
    };

    // (a, b, name=c)
    private ArgumentList ParseArguments()
    {
        ExpectOperator("(");
        var positional = new List<Expression>();
        var named = new List<KeyValuePair<string, Expression>>();
        while (!Current.IsOperator(")"))
        {
            if (positional.Count + named.Count > 0)
                ExpectOperator(",");
            if (Current.IsOperator(")"))
                break;
            if (Current.IsOperator("*") || Current.IsOperator("**"))
                throw Error(Current.Offset, "'*args' and '**kwargs' in calls are not supported in chat templates.");
            if (Current.Kind == TemplateTokenKind.Name && Next.IsOperator("="))
            {
                string name = Advance().Value;
                _position++;
                named.Add(new KeyValuePair<string, Expression>(name, ParseExpression()));
            }
            else
            {
                if (named.Count > 0)
                    throw Error(Current.Offset, "A positional argument cannot follow a keyword argument.");
                positional.Add(ParseExpression());
            }
        }
        _position++;
        return positional.Count == 0 && named.Count == 0 ? ArgumentList.None : new ArgumentList([.. positional], [.. named]);
    }
}
