using System.Text.Json;
using Kvasir.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Kvasir.Server.Endpoints;

/// <summary>
/// vLLM's <c>POST /tokenize</c> (a prompt, or messages through the chat template) and <c>POST /detokenize</c>.
/// </summary>
internal sealed class TokenizeEndpoint(ServingContext serving)
{
    public async Task TokenizeAsync(HttpContext http)
    {
        using var body = await RequestBody.ReadObjectAsync(http.Request, serving.Options.MaxRequestBodyBytes, http.RequestAborted).ConfigureAwait(false);
        var root = body.RootElement;
        serving.CheckModel(JsonFields.String(root, "model"));
        var returnStrings = JsonFields.Bool(root, "return_token_strs") ?? false;
        int[] tokens;
        if (JsonFields.TryGet(root, "messages", out _))
        {
            var messages = ChatCompletionRequest.ParseMessages(root);
            var add = JsonFields.Bool(root, "add_generation_prompt") ?? true;
            var cont = JsonFields.Bool(root, "continue_final_message") ?? false;
            tokens = ChatCompletionsEndpoint.BuildPrompt(serving, messages, add && !cont, cont, ChatCompletionRequest.ParseTemplateVariables(root));
        }
        else
        {
            var prompt = JsonFields.String(root, "prompt")
                ?? throw ApiException.BadRequest("Give prompt (a string) or messages (an array of messages).", "prompt");
            tokens = serving.Tokenizer.Encode(prompt, addSpecial: JsonFields.Bool(root, "add_special_tokens") ?? true, parseSpecial: true);
        }

        using var json = new PooledJson();
        var w = json.Writer;
        w.WriteStartObject();
        w.WriteNumber("count", tokens.Length);
        w.WriteNumber("max_model_len", serving.Engine.MaxModelLen);
        w.WriteStartArray("tokens");
        foreach (var t in tokens)
        {
            w.WriteNumberValue(t);
        }

        w.WriteEndArray();
        if (returnStrings)
        {
            w.WriteStartArray("token_strs");
            foreach (var t in tokens)
            {
                w.WriteStringValue(serving.Tokenizer.TokenText(t));
            }

            w.WriteEndArray();
        }
        else
        {
            w.WriteNull("token_strs");
        }

        w.WriteEndObject();
        http.Response.ContentType = "application/json";
        await json.CopyToAsync(http.Response, http.RequestAborted).ConfigureAwait(false);
    }

    public async Task DetokenizeAsync(HttpContext http)
    {
        using var body = await RequestBody.ReadObjectAsync(http.Request, serving.Options.MaxRequestBodyBytes, http.RequestAborted).ConfigureAwait(false);
        var root = body.RootElement;
        serving.CheckModel(JsonFields.String(root, "model"));
        if (!JsonFields.TryGet(root, "tokens", out var array))
        {
            throw ApiException.BadRequest("tokens is required: an array of token ids.", "tokens");
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw JsonFields.WrongType("tokens", "an array of token ids", array);
        }

        var vocab = serving.Tokenizer.VocabSize;
        var ids = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            ids[i] = JsonFields.Int(item, 0, vocab - 1, $"tokens[{i}]");
            i++;
        }

        using var json = new PooledJson();
        var w = json.Writer;
        w.WriteStartObject();
        w.WriteString("prompt", serving.Tokenizer.Decode(ids));
        w.WriteEndObject();
        http.Response.ContentType = "application/json";
        await json.CopyToAsync(http.Response, http.RequestAborted).ConfigureAwait(false);
    }
}
