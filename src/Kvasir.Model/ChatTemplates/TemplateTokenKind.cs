namespace Kvasir.Model.ChatTemplates;

/// <summary>What a <see cref="TemplateToken"/> is.</summary>
internal enum TemplateTokenKind
{
    /// <summary>Literal text between tags, whitespace control already applied.</summary>
    Text,

    /// <summary><c>{{</c></summary>
    VariableBegin,

    /// <summary><c>}}</c></summary>
    VariableEnd,

    /// <summary><c>{%</c></summary>
    BlockBegin,

    /// <summary><c>%}</c></summary>
    BlockEnd,

    /// <summary>An identifier or keyword.</summary>
    Name,

    /// <summary>A string literal; the value is unescaped.</summary>
    String,

    /// <summary>An integer literal; the value is its digits.</summary>
    Integer,

    /// <summary>A float literal; the value is its text.</summary>
    Float,

    /// <summary>An operator or bracket; the value is its text.</summary>
    Operator,

    /// <summary>The end of the template.</summary>
    End,
}
