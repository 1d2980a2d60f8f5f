namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// One message of a conversation as a chat template sees it: <c>message.role</c> and <c>message.content</c>.
/// </summary>
/// <param name="Role">"system", "user", "assistant", "tool", or whatever roles the template knows.</param>
/// <param name="Content">The message text. OpenAI's list-of-parts content is flattened to text by the caller.</param>
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>
    /// Other fields the template may read (<c>tool_calls</c>, <c>tool_call_id</c>, <c>name</c>,
    /// <c>reasoning_content</c>, ...), or null. They are added to the message after role and content and replace
    /// them on a clash, so a caller can pass content as null or as a list of parts where a template expects that.
    /// Values follow the rules of <see cref="ChatTemplate.Render"/>'s extra variables.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? Fields { get; init; }
}
