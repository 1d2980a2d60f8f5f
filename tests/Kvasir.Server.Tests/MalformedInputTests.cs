using System.Net;
using System.Text;

namespace Kvasir.Server.Tests;

/// <summary>Every client mistake gets a 4xx with OpenAI's error body, never a 500, and the server stays healthy.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class MalformedInputTests(SharedServer shared)
{
    private const string Chat = "/v1/chat/completions";
    private const string Completions = "/v1/completions";
    private const string User = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

    private TestServer S => shared.Server;

    public static TheoryData<string, string, int, string?> BadBodies => new()
    {
        { Chat, "{bad json", 400, null },
        { Chat, "", 400, null },
        { Chat, "[1,2,3]", 400, null },
        { Chat, "\"just a string\"", 400, null },
        { Chat, """{"messages":[]}""", 400, "messages" },
        { Chat, """{}""", 400, "messages" },
        { Chat, """{"messages":"hello"}""", 400, "messages" },
        { Chat, """{"messages":[{"role":"wizard","content":"x"}]}""", 400, "messages[0].role" },
        { Chat, """{"messages":[{"content":"x"}]}""", 400, "messages[0].role" },
        { Chat, """{"messages":[{"role":"user"}]}""", 400, "messages[0].content" },
        { Chat, """{"messages":[{"role":"user","content":42}]}""", 400, "messages[0].content" },
        { Chat, """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", 400, "messages[0].content[0].type" },
        { Chat, "{" + User + ""","temperature":"hot"}""", 400, "temperature" },
        { Chat, "{" + User + ""","temperature":3}""", 400, "temperature" },
        { Chat, "{" + User + ""","top_p":0}""", 400, "top_p" },
        { Chat, "{" + User + ""","presence_penalty":-5}""", 400, "presence_penalty" },
        { Chat, "{" + User + ""","n":0}""", 400, "n" },
        { Chat, "{" + User + ""","n":1000}""", 400, "n" },
        { Chat, "{" + User + ""","n":1.5}""", 400, "n" },
        { Chat, "{" + User + ""","max_tokens":0}""", 400, "max_tokens" },
        { Chat, "{" + User + ""","max_tokens":-3}""", 400, "max_tokens" },
        { Chat, "{" + User + ""","max_tokens":1e300}""", 400, "max_tokens" },
        { Chat, "{" + User + ""","max_tokens":100000}""", 400, "max_tokens" },
        { Chat, "{" + User + ""","max_completion_tokens":2147483647}""", 400, "max_completion_tokens" },
        { Chat, "{" + User + ""","stream":"yes"}""", 400, "stream" },
        { Chat, "{" + User + ""","stop":[1,2]}""", 400, "stop[0]" },
        { Chat, "{" + User + ""","stop":""}""", 400, "stop" },
        { Chat, "{" + User + ""","logit_bias":{"abc":1}}""", 400, "logit_bias" },
        { Chat, "{" + User + ""","logit_bias":{"5":500}}""", 400, "logit_bias" },
        { Chat, "{" + User + ""","logit_bias":{"999999":1}}""", 400, "logit_bias" },
        { Chat, "{" + User + ""","top_logprobs":5}""", 400, "top_logprobs" },
        { Chat, "{" + User + ""","logprobs":true,"top_logprobs":50}""", 400, "top_logprobs" },
        { Chat, "{" + User + ""","seed":"abc"}""", 400, "seed" },
        { Chat, "{" + User + ""","cache_salt":"mine"}""", 400, "cache_salt" },
        { Chat, "{" + User + ""","tools":[{"type":"function","function":{"name":"f"}}]}""", 400, "tools" },
        { Chat, "{" + User + ""","response_format":{"type":"json_object"}}""", 400, "response_format" },
        { Chat, "{" + User + ""","model":"gpt-4o"}""", 404, "model" },
        { Completions, """{"max_tokens":3}""", 400, "prompt" },
        { Completions, """{"prompt":[]}""", 400, "prompt" },
        { Completions, """{"prompt":[1,"a"]}""", 400, "prompt[1]" },
        { Completions, """{"prompt":[99999]}""", 400, "prompt" },
        { Completions, """{"prompt":["a","b"]}""", 400, "prompt" },
        { Completions, """{"prompt":{"text":"a"}}""", 400, "prompt" },
        { Completions, """{"prompt":"a","logprobs":30}""", 400, "logprobs" },
        { Completions, """{"prompt":"a","echo":true}""", 400, "echo" },
        { Completions, """{"prompt":"a","model":"nope"}""", 404, "model" },
        { "/tokenize", """{"prompt":5}""", 400, "prompt" },
        { "/detokenize", """{"tokens":[-1]}""", 400, "tokens[0]" },
        { "/detokenize", """{"tokens":"abc"}""", 400, "tokens" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadRequestsGetTheErrorSchema(string path, string body, int status, string? param)
    {
        var (code, json, _) = await Json.PostAsync(S.Http, path, body);
        Assert.Equal(status, (int)code);
        Json.AssertError(json, param);
        Assert.Equal(HttpStatusCode.OK, (await S.Http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task InvalidUtf8IsA400WithTheOffset()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"ab""").Concat(new byte[] { 0xFF, 0xFE }).Concat(Encoding.UTF8.GetBytes("\"}]}")).ToArray();
        var (code, json, _) = await Json.PostBytesAsync(S.Http, Chat, bytes);
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Json.AssertError(json);
        Assert.Contains("offset 41", json.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task ByteOrderMarkBeforeTheJsonIsAccepted()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("{" + User + ",\"max_tokens\":1}")).ToArray();
        var (code, _, _) = await Json.PostBytesAsync(S.Http, Chat, bytes);
        Assert.Equal(HttpStatusCode.OK, code);
    }

    [Fact]
    public async Task PromptLongerThanTheContextNamesBothNumbers()
    {
        var text = string.Join(" ", Enumerable.Range(0, 600).Select(i => $"w{i}"));
        var (code, json, _) = await Json.PostAsync(S.Http, Completions, $$"""{"prompt":"{{text}}","max_tokens":5}""");
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Json.AssertError(json, "prompt");
        var message = json.GetProperty("error").GetProperty("message").GetString()!;
        var promptTokens = S.Model.Tokenizer.Encode(text).Length;
        Assert.Contains($"{S.Engine.MaxModelLen} tokens", message);
        Assert.Contains($"{promptTokens} input tokens", message);
    }

    [Fact]
    public async Task HugeMaxTokensNamesPromptCompletionAndContext()
    {
        var (code, json, _) = await Json.PostAsync(S.Http, Completions, """{"prompt":"hello","max_tokens":100000}""");
        Assert.Equal(HttpStatusCode.BadRequest, code);
        var message = json.GetProperty("error").GetProperty("message").GetString()!;
        var prompt = S.Model.Tokenizer.Encode("hello", addSpecial: true, parseSpecial: true).Length;
        Assert.Contains($"maximum context length is {S.Engine.MaxModelLen} tokens", message);
        Assert.Contains($"you requested {prompt + 100000} tokens ({prompt} in the prompt, 100000 in the completion)", message);
        Assert.Equal("context_length_exceeded", json.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task UnknownRoutesAndMethodsGetTheErrorSchema()
    {
        var missing = await S.Http.GetAsync("/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Json.AssertError(System.Text.Json.JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement);
        var wrongMethod = await S.Http.GetAsync(Chat);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Json.AssertError(System.Text.Json.JsonDocument.Parse(await wrongMethod.Content.ReadAsStringAsync()).RootElement);
    }

    [Fact]
    public async Task HugeBodyIs413()
    {
        // Expect: 100-continue (as curl sends for large bodies): the server answers 413 before the body is sent.
        var body = new byte[9 * 1024 * 1024];
        Array.Fill(body, (byte)' ');
        using var request = new HttpRequestMessage(HttpMethod.Post, Chat) { Content = new ByteArrayContent(body) };
        request.Headers.ExpectContinue = true;
        using var response = await S.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Json.AssertError(System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
        Assert.Equal(HttpStatusCode.OK, (await S.Http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task UnknownFieldsAreIgnoredAsOpenAiDoes()
    {
        var (code, json, _) = await Json.PostAsync(S.Http, Chat, "{" + User + ""","max_tokens":2,"some_future_field":{"x":1},"user":"u-1","priority":3,"top_k":5,"min_p":0.1,"repetition_penalty":1.1}""");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
    }
}
