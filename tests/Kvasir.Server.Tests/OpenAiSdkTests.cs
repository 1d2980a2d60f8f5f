using System.Text;
using OpenAI.Chat;

namespace Kvasir.Server.Tests;

/// <summary>The official OpenAI .NET SDK against a real server: the oracle for the wire format.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class OpenAiSdkTests(SharedServer shared)
{
    private TestServer S => shared.Server;

    private static List<ChatMessage> Conversation(string user) => [new SystemChatMessage("You are terse."), new UserChatMessage(user)];

    [Fact]
    public async Task OpenAiClientListsTheModelAndChats()
    {
        var client = S.OpenAIClient();
        var models = (await client.GetOpenAIModelClient().GetModelsAsync()).Value;
        Assert.Equal(S.ModelName, Assert.Single(models).Id);
        var chat = await client.GetChatClient(S.ModelName).CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 3 });
        Assert.Equal(S.ModelName, chat.Value.Model);
    }

    [Fact]
    public async Task ChatCompletionReturnsTextUsageAndFinishReason()
    {
        var client = S.ChatClient();
        var completion = (await client.CompleteChatAsync(Conversation("Say hello."), new ChatCompletionOptions { MaxOutputTokenCount = 6, Seed = 7 })).Value;

        Assert.Equal(S.ModelName, completion.Model);
        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.True(completion.FinishReason is ChatFinishReason.Length or ChatFinishReason.Stop);
        var prompt = S.Server.Prompts.BuildPromptTokenIds([new("system", "You are terse."), new("user", "Say hello.")]);
        Assert.Equal(prompt.Length, completion.Usage.InputTokenCount);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 6);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.NotNull(completion.Usage.InputTokenDetails);
        if (completion.FinishReason == ChatFinishReason.Length)
        {
            Assert.Equal(6, completion.Usage.OutputTokenCount);
        }
    }

    [Fact]
    public async Task StreamingMatchesTheNonStreamedAnswerForTheSameSeed()
    {
        var client = S.ChatClient();
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Seed = 1234, Temperature = 0.9f };
        var whole = (await client.CompleteChatAsync(Conversation("Tell me a story."), options)).Value;

        var streamOptions = new ChatCompletionOptions { MaxOutputTokenCount = 12, Seed = 1234, Temperature = 0.9f };
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in client.CompleteChatStreamingAsync(Conversation("Tell me a story."), streamOptions))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.True(updates >= 3, $"expected a role chunk, token chunks and a usage chunk; got {updates} updates");
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage);   // the SDK asks for stream_options.include_usage
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
    }

    [Fact]
    public async Task SameSeedSameTextDifferentSeedDifferentText()
    {
        var client = S.ChatClient();
        async Task<string> Run(long seed)
            => (await client.CompleteChatAsync(Conversation("Write a poem."), new ChatCompletionOptions { MaxOutputTokenCount = 16, Seed = seed, Temperature = 1f })).Value.Content[0].Text;

        var a = await Run(42);
        var b = await Run(42);
        var c = await Run(43);
        var d = await Run(44);
        Assert.Equal(a, b);
        Assert.False(a == c && a == d, "three seeds gave the same 16 sampled tokens");
    }

    [Fact]
    public async Task LogprobsHaveTokensBytesAndSortedAlternatives()
    {
        var client = S.ChatClient();
        var completion = (await client.CompleteChatAsync(Conversation("Count."),
            new ChatCompletionOptions { MaxOutputTokenCount = 5, IncludeLogProbabilities = true, TopLogProbabilityCount = 3, Temperature = 0f })).Value;

        var logprobs = completion.ContentTokenLogProbabilities;
        Assert.Equal(completion.Usage.OutputTokenCount, logprobs.Count);
        foreach (var token in logprobs)
        {
            Assert.True(token.LogProbability <= 0f);
            Assert.Equal(3, token.TopLogProbabilities.Count);
            Assert.NotNull(token.Utf8Bytes);
            for (var i = 1; i < token.TopLogProbabilities.Count; i++)
            {
                Assert.True(token.TopLogProbabilities[i - 1].LogProbability >= token.TopLogProbabilities[i].LogProbability);
            }

            // Greedy: the sampled token is the most likely one.
            Assert.Equal(token.TopLogProbabilities[0].LogProbability, token.LogProbability, 5);
        }
    }

    [Fact]
    public async Task StopStringEndsTheTextBeforeIt()
    {
        var client = S.ChatClient();
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Seed = 11, Temperature = 1f };
        var free = (await client.CompleteChatAsync(Conversation("Go on."), options)).Value.Content[0].Text;
        Assert.True(free.Length >= 6, $"need some text to cut: '{free}'");

        // Stop on a piece of the free text: the same seed gives the same tokens up to it, and the text ends just before it.
        var stop = free.Substring(3, 2);
        var stopped = new ChatCompletionOptions { MaxOutputTokenCount = 24, Seed = 11, Temperature = 1f };
        stopped.StopSequences.Add(stop);
        var cut = (await client.CompleteChatAsync(Conversation("Go on."), stopped)).Value;
        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);
        Assert.Equal(free[..free.IndexOf(stop, StringComparison.Ordinal)], cut.Content[0].Text);
    }

    [Fact]
    public async Task RepeatedPromptReportsCachedTokens()
    {
        var client = S.ChatClient();
        var longPrompt = "Remember this list: " + string.Join(", ", Enumerable.Range(0, 40).Select(i => $"item {i}")) + ". Which is first?";
        var first = (await client.CompleteChatAsync(Conversation(longPrompt), new ChatCompletionOptions { MaxOutputTokenCount = 2 })).Value;
        var second = (await client.CompleteChatAsync(Conversation(longPrompt), new ChatCompletionOptions { MaxOutputTokenCount = 2 })).Value;

        var blockSize = S.Engine.BlockSize;
        Assert.True(first.Usage.InputTokenCount > 4 * blockSize);
        // Every full block of the prompt except possibly the last is a hit the second time.
        Assert.True(second.Usage.InputTokenDetails.CachedTokenCount >= (first.Usage.InputTokenCount / blockSize - 1) * blockSize,
            $"cached {second.Usage.InputTokenDetails.CachedTokenCount} of {second.Usage.InputTokenCount}");
    }
}
