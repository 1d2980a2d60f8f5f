namespace Kvasir.Model.ChatTemplates;

/// <summary>One token of a template: kind, value and offset in the (newline-normalized) source.</summary>
internal readonly record struct TemplateToken(TemplateTokenKind Kind, string Value, int Offset)
{
    /// <summary>True for the operator <paramref name="op"/>.</summary>
    public bool IsOperator(string op) => Kind == TemplateTokenKind.Operator && Value == op;

    /// <summary>True for the name or keyword <paramref name="name"/>.</summary>
    public bool IsName(string name) => Kind == TemplateTokenKind.Name && Value == name;

    /// <summary>How the token reads in an error message.</summary>
    public string Describe() => Kind switch
    {
        TemplateTokenKind.Text => "text",
        TemplateTokenKind.VariableBegin => "'{{'",
        TemplateTokenKind.VariableEnd => "'}}'",
        TemplateTokenKind.BlockBegin => "'{%'",
        TemplateTokenKind.BlockEnd => "'%}'",
        TemplateTokenKind.String => "a string",
        TemplateTokenKind.End => "the end of the template",
        _ => $"'{Value}'",
    };
}
