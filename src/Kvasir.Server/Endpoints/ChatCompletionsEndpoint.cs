using Kvasir.Model.ChatTemplates;
using Kvasir.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Kvasir.Server.Endpoints;

/// <summary><c>POST /v1/chat/completions</c>: messages → chat template → tokens → engine → a chat.completion or its chunks.</summary>
internal sealed class ChatCompletionsEndpoint(ServingContext serving)
{
    public async Task HandleAsync(HttpContext http)
    {
        using var body = await RequestBody.ReadObjectAsync(http.Request, serving.Options.MaxRequestBodyBytes, http.RequestAborted).ConfigureAwait(false);
        var request = ChatCompletionRequest.Parse(body.RootElement);
        serving.CheckModel(request.Generation.Model);
        var prompt = BuildPrompt(serving, request.Messages, request.AddGenerationPrompt, request.ContinueFinalMessage, request.TemplateVariables);
        var id = ServingContext.NewId("chatcmpl-");
        var engineRequest = serving.CreateRequest(http, id, prompt, request.Generation, "messages", chat: true);
        var deltas = await serving.SubmitAsync(http, engineRequest).ConfigureAwait(false);
        var format = new ChatCompletionFormat(id, serving.ModelName, serving.Tokenizer, request.Generation.N, request.Logprobs);
        await GenerationResponder.RespondAsync(http, serving, engineRequest, deltas, format, request.Generation).ConfigureAwait(false);
    }

    /// <summary>Renders and encodes a conversation; template failures are the client's (400).</summary>
    public static int[] BuildPrompt(ServingContext serving, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool continueFinalMessage,
        IReadOnlyDictionary<string, object?>? variables)
    {
        string text;
        try
        {
            text = serving.Prompts.Render(messages, addGenerationPrompt, variables);
        }
        catch (ChatTemplateException e)
        {
            throw ApiException.BadRequest("The chat template could not render these messages: " + e.Message, "messages");
        }
        catch (ArgumentException e)
        {
            throw ApiException.BadRequest("The chat template could not render these messages: " + e.Message, "messages");
        }

        if (continueFinalMessage)
        {
            // Cut everything the template wrote after the last message's content (its end-of-turn marker), so the
            // model continues that message.
            var last = messages[^1].Content;
            var at = last.Length == 0 ? -1 : text.LastIndexOf(last, StringComparison.Ordinal);
            if (at < 0 && last.Length > 0)
            {
                throw ApiException.BadRequest("continue_final_message: the chat template does not write the last message's content verbatim.", "continue_final_message");
            }

            if (at >= 0)
            {
                text = text[..(at + last.Length)];
            }
        }

        return serving.Prompts.Encode(text);
    }
}
