using System.Text;

namespace Kvasir.Model.ChatTemplates;

/// <summary>
/// A model's chat template (the Jinja source in the GGUF key <c>tokenizer.chat_template</c>), parsed once
/// and rendered for every request into the prompt text the model was trained on.
/// </summary>
/// <remarks>
/// <para>This is an interpreter for the subset of Jinja that real chat templates use (docs/chat-templates.md
/// lists it), with the environment Hugging Face's <c>apply_chat_template</c> sets up: <c>trim_blocks</c> and
/// <c>lstrip_blocks</c> on, <c>raise_exception</c>, <c>strftime_now</c>, and a <c>tojson</c> that keeps key
/// order and does not escape HTML. Undefined names render as nothing and are falsy; attribute access on an
/// undefined value is undefined again rather than an error.</para>
/// <para>A parsed template is immutable and may be rendered from many threads at once.</para>
/// <code>
/// var template = config.ChatTemplate is { } source ? ChatTemplate.Parse(source) : ChatTemplate.ChatMl;
/// string prompt = template.Render(messages, addGenerationPrompt: true, bosToken: "&lt;s&gt;", eosToken: "&lt;/s&gt;");
/// </code>
/// </remarks>
public sealed class ChatTemplate
{
    /// <summary>The ChatML template, used when a model carries no template of its own.</summary>
    public const string ChatMlSource =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private readonly TemplateNode[] _nodes;
    private readonly string _normalizedSource;
    private readonly TimeProvider _clock;

    private ChatTemplate(string source, string normalizedSource, TemplateNode[] nodes, TimeProvider clock)
    {
        Source = source;
        _normalizedSource = normalizedSource;
        _nodes = nodes;
        _clock = clock;
    }

    /// <summary>
    /// ChatML: <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> per message, and
    /// <c>&lt;|im_start|&gt;assistant\n</c> as the generation prompt.
    /// </summary>
    public static ChatTemplate ChatMl { get; } = Parse(ChatMlSource);

    /// <summary>The template source as given.</summary>
    public string Source { get; }

    /// <summary>Parses a template.</summary>
    /// <param name="source">The Jinja source.</param>
    /// <param name="clock">The clock <c>strftime_now</c> reads (local time); the system clock when null. Tests pass a fixed one.</param>
    /// <exception cref="ChatTemplateException">The source is not valid for the supported subset; the message has line, column and a snippet.</exception>
    public static ChatTemplate Parse(string source, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        string normalized = TemplateLexer.Normalize(source);
        return new ChatTemplate(source, normalized, TemplateParser.Parse(normalized), clock ?? TimeProvider.System);
    }

    /// <summary>Renders a conversation into prompt text.</summary>
    /// <param name="messages">The conversation; the template sees each as a dict with <c>role</c>, <c>content</c> and the message's <see cref="ChatMessage.Fields"/>.</param>
    /// <param name="addGenerationPrompt">Append the header that starts the assistant's reply (<c>add_generation_prompt</c>).</param>
    /// <param name="bosToken">The text of the model's BOS token (<c>bos_token</c>); undefined when null.</param>
    /// <param name="eosToken">The text of the model's EOS token (<c>eos_token</c>); undefined when null.</param>
    /// <param name="extraVariables">
    /// More variables (<c>tools</c>, <c>documents</c>, <c>enable_thinking</c>, <c>date_string</c>, ...). They are set
    /// after the standard ones and may replace them. <c>tools</c> and <c>documents</c> are none unless given here.
    /// Values may be strings, numbers, booleans, null, <see cref="System.Text.Json.JsonElement"/> or
    /// <see cref="System.Text.Json.Nodes.JsonNode"/> trees, dictionaries with string keys, lists of these, or <see cref="ChatMessage"/>s.
    /// </param>
    /// <returns>The prompt text, to be tokenized without adding another BOS when the template already writes one.</returns>
    /// <exception cref="ChatTemplateException">
    /// The template called <c>raise_exception</c> (<see cref="ChatTemplateErrorKind.Rejected"/>: the conversation is
    /// not one this model accepts) or failed while rendering (<see cref="ChatTemplateErrorKind.Render"/>).
    /// </exception>
    /// <exception cref="ArgumentException">An extra variable or message field has a type a template cannot use.</exception>
    public string Render(
        IReadOnlyList<ChatMessage> messages,
        bool addGenerationPrompt,
        string? bosToken,
        string? eosToken,
        IReadOnlyDictionary<string, object?>? extraVariables = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var root = new Scope(null);
        var messageList = new List<object?>(messages.Count);
        int contentLength = 0;
        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            messageList.Add(TemplateValue.MessageToDict(message));
            contentLength += message.Content?.Length ?? 0;
        }
        root.Set("messages", messageList);
        root.Set("add_generation_prompt", addGenerationPrompt);
        if (bosToken is not null)
            root.Set("bos_token", bosToken);
        if (eosToken is not null)
            root.Set("eos_token", eosToken);
        root.Set("tools", null);
        root.Set("documents", null);
        if (extraVariables is not null)
        {
            foreach (var pair in extraVariables)
                root.Set(pair.Key, TemplateValue.FromExternal(pair.Value, pair.Key));
        }

        var output = new StringBuilder(256 + contentLength + (contentLength / 8));
        var context = new RenderContext(output, root, _clock);
        try
        {
            TemplateNode.RenderAll(_nodes, context);
        }
        catch (TemplateRuntimeException e)
        {
            throw ChatTemplateException.AtOffset(ChatTemplateErrorKind.Render, _normalizedSource, e.Offset, e.Message);
        }
        return output.ToString();
    }
}
