namespace Kvasir.Model.ChatTemplates;

/// <summary>Why a chat template failed, which decides who is at fault.</summary>
public enum ChatTemplateErrorKind
{
    /// <summary>The template source is not valid (for the supported subset of) Jinja: the model file is at fault.</summary>
    Syntax,

    /// <summary>The template failed while rendering (a type error, an unknown function): the template is at fault.</summary>
    Render,

    /// <summary>The template called <c>raise_exception</c>: it rejects this conversation, so the client is at fault (HTTP 400).</summary>
    Rejected,
}
