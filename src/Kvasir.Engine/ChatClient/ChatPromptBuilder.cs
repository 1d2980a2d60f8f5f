using Kvasir.Model;
using Kvasir.Model.ChatTemplates;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Engine.ChatClient;

/// <summary>
/// Turns a conversation into prompt token ids: the chat template renders the messages to text, and the
/// tokenizer encodes that text with special tokens parsed (so that <c>&lt;|im_start|&gt;</c> is one token).
/// The one place both the HTTP server and the in-process <see cref="KvasirChatClient"/> build chat prompts.
/// </summary>
/// <remarks>
/// BOS: many templates write <c>bos_token</c> themselves. The rendered text is encoded without adding special
/// tokens, and BOS is put in front only when the vocabulary asks for one and the template did not already
/// write it, so a prompt never starts with two BOS tokens. EOS is never appended to a chat prompt.
/// Thread-safe: templates and tokenizers are immutable.
/// </remarks>
public sealed class ChatPromptBuilder
{
    private readonly string? _bosText;
    private readonly string? _eosText;

    /// <summary>Creates a builder from a tokenizer and a parsed template.</summary>
    public ChatPromptBuilder(Tokenizer tokenizer, ChatTemplate template)
    {
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Template = template ?? throw new ArgumentNullException(nameof(template));
        _bosText = IsValidId(tokenizer, tokenizer.BosId) ? tokenizer.TokenText(tokenizer.BosId) : null;
        _eosText = IsValidId(tokenizer, tokenizer.EosId) ? tokenizer.TokenText(tokenizer.EosId) : null;
    }

    /// <summary>The tokenizer prompts are encoded with.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The chat template in use.</summary>
    public ChatTemplate Template { get; }

    /// <summary>Where the template came from: "override", "model" or "chatml (fallback)".</summary>
    public string TemplateOrigin { get; private init; } = "custom";

    /// <summary>Why the model's own template was not used (it does not parse), or null.</summary>
    public string? Warning { get; private init; }

    /// <summary>
    /// The builder for a model: the template given in <paramref name="templateOverride"/> (its Jinja source, for
    /// example the contents of a --chat-template file), else the model's own <c>tokenizer.chat_template</c>, else ChatML.
    /// A model template that does not parse falls back to ChatML with a <see cref="Warning"/>, so that the model
    /// can still be served (completions are unaffected; pass an override for chat).
    /// </summary>
    /// <exception cref="ChatTemplateException">The override does not parse.</exception>
    public static ChatPromptBuilder ForModel(LanguageModel model, string? templateOverride = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (templateOverride is not null)
        {
            return new ChatPromptBuilder(model.Tokenizer, ChatTemplate.Parse(templateOverride)) { TemplateOrigin = "override" };
        }

        if (model.Config.ChatTemplate is not { Length: > 0 } source)
        {
            return new ChatPromptBuilder(model.Tokenizer, ChatTemplate.ChatMl) { TemplateOrigin = "chatml (fallback)" };
        }

        try
        {
            return new ChatPromptBuilder(model.Tokenizer, ChatTemplate.Parse(source)) { TemplateOrigin = "model" };
        }
        catch (ChatTemplateException e)
        {
            return new ChatPromptBuilder(model.Tokenizer, ChatTemplate.ChatMl)
            {
                TemplateOrigin = "chatml (fallback)",
                Warning = $"the model's chat template does not parse, so chat uses ChatML; pass a template that fits the model with --chat-template FILE. {e.Message}",
            };
        }
    }

    /// <summary>Renders the conversation to prompt text with the model's BOS and EOS texts.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="addGenerationPrompt">Append the header that starts the assistant's reply.</param>
    /// <param name="extraVariables">More template variables (chat_template_kwargs), or null.</param>
    /// <exception cref="ChatTemplateException">The template rejected the conversation or failed to render.</exception>
    /// <exception cref="ArgumentException">A variable has a type the template cannot use.</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true, IReadOnlyDictionary<string, object?>? extraVariables = null)
        => Template.Render(messages, addGenerationPrompt, _bosText, _eosText, extraVariables);

    /// <summary>Renders the conversation and encodes it: the prompt token ids to submit.</summary>
    /// <inheritdoc cref="Render" path="/param"/>
    /// <exception cref="ChatTemplateException">The template rejected the conversation or failed to render.</exception>
    /// <exception cref="ArgumentException">A variable has a type the template cannot use.</exception>
    public int[] BuildPromptTokenIds(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true, IReadOnlyDictionary<string, object?>? extraVariables = null)
        => Encode(Render(messages, addGenerationPrompt, extraVariables));

    /// <summary>
    /// Encodes rendered prompt text: special tokens are parsed, nothing is appended, and BOS is prepended only
    /// when the vocabulary wants one and the text does not already start with it.
    /// </summary>
    public int[] Encode(string promptText)
    {
        ArgumentNullException.ThrowIfNull(promptText);
        var ids = Tokenizer.Encode(promptText, addSpecial: false, parseSpecial: true);
        if (!Tokenizer.AddBos || !IsValidId(Tokenizer, Tokenizer.BosId) || (ids.Length > 0 && ids[0] == Tokenizer.BosId))
        {
            return ids;
        }

        var withBos = new int[ids.Length + 1];
        withBos[0] = Tokenizer.BosId;
        ids.CopyTo(withBos, 1);
        return withBos;
    }

    private static bool IsValidId(Tokenizer tokenizer, int id) => (uint)id < (uint)tokenizer.VocabSize;
}
