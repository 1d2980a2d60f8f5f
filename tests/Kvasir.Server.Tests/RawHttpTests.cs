using System.Net;
using System.Text.Json;

namespace Kvasir.Server.Tests;

/// <summary>The wire format checked field by field with a plain HttpClient: completions, n, logprobs, streaming chunks, tokenize.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class RawHttpTests(SharedServer shared)
{
    private TestServer S => shared.Server;

    [Fact]
    public async Task ChatWithNReturnsEveryChoiceAndSumsUsage()
    {
        var (status, body, _) = await Json.PostAsync(S.Http, "/v1/chat/completions",
            """{"messages":[{"role":"user","content":[{"type":"text","text":"Pick"},{"type":"text","text":" a number."}]}],"n":3,"max_tokens":6,"seed":5,"logprobs":true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        var choices = body.GetProperty("choices");
        Assert.Equal(3, choices.GetArrayLength());
        var tokens = 0;
        var texts = new HashSet<string>();
        for (var i = 0; i < 3; i++)
        {
            var c = choices[i];
            Assert.Equal(i, c.GetProperty("index").GetInt32());
            Assert.Equal("assistant", c.GetProperty("message").GetProperty("role").GetString());
            texts.Add(c.GetProperty("message").GetProperty("content").GetString()!);
            tokens += c.GetProperty("logprobs").GetProperty("content").GetArrayLength();
            Assert.Contains(c.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        }

        var usage = body.GetProperty("usage");
        Assert.Equal(tokens, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + tokens, usage.GetProperty("total_tokens").GetInt32());
        Assert.True(texts.Count > 1, "three sampled choices were all identical");
    }

    [Fact]
    public async Task StreamedChatChunksFollowOpenAiShape()
    {
        var events = await Json.PostStreamAsync(S.Http, "/v1/chat/completions",
            """{"messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":"Hi"}],"n":2,"max_completion_tokens":4,"stream":true,"stream_options":{"include_usage":true},"seed":9}""");
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());

        // One role chunk per choice first, then content; each choice ends with one finish_reason; usage last with no choices.
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("assistant", chunks[1].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var finishes = new int[2];
        var completionTokens = 0;
        foreach (var c in chunks.SkipLast(1))
        {
            Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind);
            var choice = c.GetProperty("choices")[0];
            if (choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String)
            {
                finishes[choice.GetProperty("index").GetInt32()]++;
            }
        }

        Assert.Equal([1, 1], finishes);
        var last = chunks[^1];
        Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
        completionTokens = last.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        Assert.InRange(completionTokens, 2, 8);
    }

    [Fact]
    public async Task CompletionsAcceptTextAndTokenPromptsAlike()
    {
        var ids = S.Model.Tokenizer.Encode("The quick brown fox", addSpecial: true, parseSpecial: true);
        var (s1, text, _) = await Json.PostAsync(S.Http, "/v1/completions", """{"prompt":"The quick brown fox","max_tokens":8,"temperature":0}""");
        var (s2, tokens, _) = await Json.PostAsync(S.Http, "/v1/completions", $$"""{"prompt":[{{string.Join(",", ids)}}],"max_tokens":8,"temperature":0}""");
        Assert.Equal(HttpStatusCode.OK, s1);
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal("text_completion", text.GetProperty("object").GetString());
        Assert.Equal(ids.Length, text.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(text.GetProperty("choices")[0].GetProperty("text").GetString(), tokens.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task CompletionLogprobsHaveTokensOffsetsAndAlternatives()
    {
        var (status, body, _) = await Json.PostAsync(S.Http, "/v1/completions", """{"prompt":"Once upon a time","max_tokens":5,"logprobs":2,"temperature":0,"ignore_eos":true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var choice = body.GetProperty("choices")[0];
        var lp = choice.GetProperty("logprobs");
        var tokens = lp.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var tokenLogprobs = lp.GetProperty("token_logprobs").EnumerateArray().Select(t => t.GetSingle()).ToArray();
        var offsets = lp.GetProperty("text_offset").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        var top = lp.GetProperty("top_logprobs");
        Assert.Equal(5, tokens.Length);
        Assert.Equal(5, tokenLogprobs.Length);
        Assert.Equal(5, top.GetArrayLength());
        Assert.Equal(0, offsets[0]);
        for (var i = 1; i < tokens.Length; i++)
        {
            Assert.Equal(offsets[i - 1] + tokens[i - 1].Length, offsets[i]);
        }

        for (var i = 0; i < tokens.Length; i++)
        {
            // Greedy: the chosen token is the best alternative, so it is in the map with the same log-probability.
            Assert.True(top[i].TryGetProperty(tokens[i], out var own));
            Assert.Equal(tokenLogprobs[i], own.GetSingle(), 5);
            Assert.InRange(top[i].EnumerateObject().Count(), 1, 3);
        }
    }

    [Fact]
    public async Task StreamedCompletionConcatenatesToTheWholeText()
    {
        const string Body = """{"prompt":"Hello","max_tokens":10,"seed":21,"temperature":1,"stream":STREAM}""";
        var (_, whole, _) = await Json.PostAsync(S.Http, "/v1/completions", Body.Replace("STREAM", "false", StringComparison.Ordinal));
        var events = await Json.PostStreamAsync(S.Http, "/v1/completions", Body.Replace("STREAM", "true", StringComparison.Ordinal));
        Assert.Equal("[DONE]", events[^1]);
        var text = string.Concat(events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("text").GetString(), text);
    }

    [Fact]
    public async Task StopTokenIdsAndLogitBiasApply()
    {
        // A +100 bias makes one token certain; a stop id on it ends the sequence at once.
        var id = S.Model.Tokenizer.Encode(" the", addSpecial: false)[0];
        Assert.False(S.Model.Tokenizer.IsSpecial(id));
        var (_, forced, _) = await Json.PostAsync(S.Http, "/v1/completions", $$"""{"prompt":"x","max_tokens":4,"logit_bias":{"{{id}}":100},"temperature":1,"seed":1,"ignore_eos":true}""");
        Assert.Equal(S.Model.Tokenizer.Decode([id, id, id, id]), forced.GetProperty("choices")[0].GetProperty("text").GetString());
        var (_, stopped, _) = await Json.PostAsync(S.Http, "/v1/completions", $$"""{"prompt":"x","max_tokens":4,"logit_bias":{"{{id}}":100},"stop_token_ids":[{{id}}]}""");
        Assert.Equal("stop", stopped.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(1, stopped.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(string.Empty, stopped.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task TokenizeMatchesThePromptBuilderAndDetokenizeInverts()
    {
        var (status, body, _) = await Json.PostAsync(S.Http, "/tokenize", """{"messages":[{"role":"user","content":"Hello <|im_end|> there"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var expected = S.Server.Prompts.BuildPromptTokenIds([new("user", "Hello <|im_end|> there")]);
        Assert.Equal(expected, body.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray());
        Assert.Equal(expected.Length, body.GetProperty("count").GetInt32());
        Assert.Equal(S.Engine.MaxModelLen, body.GetProperty("max_model_len").GetInt32());

        var (_, plain, _) = await Json.PostAsync(S.Http, "/tokenize", """{"prompt":"Hello world","add_special_tokens":false,"return_token_strs":true}""");
        var ids = plain.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(S.Model.Tokenizer.Encode("Hello world", addSpecial: false), ids);
        Assert.Equal(ids.Length, plain.GetProperty("token_strs").GetArrayLength());
        var (_, back, _) = await Json.PostAsync(S.Http, "/detokenize", $$"""{"tokens":[{{string.Join(",", ids)}}]}""");
        Assert.Equal("Hello world", back.GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task ModelsHealthVersionAnswer()
    {
        var models = JsonDocument.Parse(await S.Http.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal("list", models.GetProperty("object").GetString());
        Assert.Equal(S.ModelName, models.GetProperty("data")[0].GetProperty("id").GetString());
        var one = JsonDocument.Parse(await S.Http.GetStringAsync($"/v1/models/{S.ModelName}")).RootElement;
        Assert.Equal(S.Engine.MaxModelLen, one.GetProperty("max_model_len").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await S.Http.GetAsync("/health")).StatusCode);
        var version = JsonDocument.Parse(await S.Http.GetStringAsync("/version")).RootElement;
        Assert.False(string.IsNullOrEmpty(version.GetProperty("version").GetString()));
    }
}
