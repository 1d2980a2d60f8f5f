using Kvasir.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Kvasir.Server.Endpoints;

/// <summary><c>POST /v1/completions</c>: a prompt (text or token ids) → engine → a text_completion or its chunks.</summary>
internal sealed class CompletionsEndpoint(ServingContext serving)
{
    public async Task HandleAsync(HttpContext http)
    {
        using var body = await RequestBody.ReadObjectAsync(http.Request, serving.Options.MaxRequestBodyBytes, http.RequestAborted).ConfigureAwait(false);
        var request = CompletionRequest.Parse(body.RootElement);
        serving.CheckModel(request.Generation.Model);
        var prompt = request.PromptTokenIds
            ?? serving.Tokenizer.Encode(request.Prompt!, addSpecial: request.AddSpecialTokens, parseSpecial: true);
        var id = ServingContext.NewId("cmpl-");
        var engineRequest = serving.CreateRequest(http, id, prompt, request.Generation, "prompt", chat: false);
        var deltas = await serving.SubmitAsync(http, engineRequest).ConfigureAwait(false);
        var format = new TextCompletionFormat(id, serving.ModelName, serving.Tokenizer, request.Generation.N, request.Logprobs is not null);
        await GenerationResponder.RespondAsync(http, serving, engineRequest, deltas, format, request.Generation).ConfigureAwait(false);
    }
}
