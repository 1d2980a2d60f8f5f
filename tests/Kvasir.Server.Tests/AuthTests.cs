using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using OpenAI.Chat;

namespace Kvasir.Server.Tests;

/// <summary>API keys as bearer tokens, tenants and their cache salts.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private const string Body = """{"messages":[{"role":"user","content":"A prompt long enough to fill a few KV blocks of sixteen tokens each, so that a repeat of it is a prefix-cache hit for its tenant."}],"max_tokens":1}""";
    private TestServer _s = null!;

    public async Task InitializeAsync()
        => _s = await TestServer.StartAsync(serverOptions: new ServerOptions { ApiKeys = ["key-a=alice", "key-b=bob", "key-c=alice", "sk-padded=="] });

    public async Task DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task MissingOrWrongKeyIs401WithTheErrorSchema()
    {
        using var anonymous = new HttpClient { BaseAddress = _s.Server.BaseAddress };
        var (status, json, response) = await Json.PostAsync(anonymous, "/v1/chat/completions", Body);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Json.AssertError(json);
        Assert.Equal("missing_api_key", json.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "key-z");
        (status, json, _) = await Json.PostAsync(anonymous, "/v1/chat/completions", Body);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_api_key", json.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Json.PostAsync(anonymous, "/tokenize", """{"prompt":"x"}""")).Status);

        // Open routes.
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/version")).StatusCode);
    }

    [Fact]
    public async Task TheOpenAiSdkAuthenticatesWithItsKey()
    {
        var ok = await _s.ChatClient("sk-padded==").CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 });
        Assert.Equal(_s.ModelName, ok.Value.Model);
        var e = await Assert.ThrowsAsync<ClientResultException>(() => _s.ChatClient("wrong").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, e.Status);
    }

    [Fact]
    public async Task TenantsShareTheirOwnCacheAndNeverAnotherTenants()
    {
        async Task<int> Cached(string key)
        {
            using var http = new HttpClient { BaseAddress = _s.Server.BaseAddress };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var (status, json, _) = await Json.PostAsync(http, "/v1/chat/completions", Body);
            Assert.Equal(HttpStatusCode.OK, status);
            return json.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32();
        }

        Assert.Equal(0, await Cached("key-a"));     // alice, cold
        Assert.True(await Cached("key-c") > 0);     // alice again, through her other key: a hit
        Assert.Equal(0, await Cached("key-b"));     // bob never hits alice's blocks
        Assert.True(await Cached("key-b") > 0);     // but hits his own
    }

    [Fact]
    public void KeysWithEqualsSignsAndTenantsParse()
    {
        var store = new ApiKeyStore(["plain", "abc==", "k1=team-x"]);
        Assert.True(store.TryGetTenant("plain", out var t1));
        Assert.Equal("key-1", t1);
        Assert.True(store.TryGetTenant("abc==", out var t2));
        Assert.Equal("key-2", t2);
        Assert.True(store.TryGetTenant("k1", out var t3));
        Assert.Equal("team-x", t3);
        Assert.False(store.TryGetTenant("k1=team-x", out _));
        Assert.NotNull(ApiKeyStore.Validate([" "]));
    }
}
