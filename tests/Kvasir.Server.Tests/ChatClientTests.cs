using Kvasir.Engine;
using Kvasir.Engine.ChatClient;
using Microsoft.Extensions.AI;

namespace Kvasir.Server.Tests;

/// <summary>
/// Microsoft.Extensions.AI both ways: the OpenAI client's <c>AsIChatClient()</c> over HTTP, and Kvasir's own
/// in-process <see cref="KvasirChatClient"/>; for the same seed both give the same text.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class ChatClientTests(SharedServer shared)
{
    private TestServer S => shared.Server;

    // No TopK here: OpenAI's API has no top_k, so the OpenAI adapter cannot send it (the in-process client maps it).
    private static ChatOptions Options(long seed) => new() { Temperature = 0.8f, TopP = 0.95f, MaxOutputTokens = 10, Seed = seed, PresencePenalty = 0.1f, FrequencyPenalty = 0.1f };

    private static List<ChatMessage> Messages => [new(ChatRole.System, "Answer briefly."), new(ChatRole.User, "What is a KV cache?")];

    [Fact]
    public async Task OverHttpAndInProcessGiveTheSameAnswer()
    {
        IChatClient http = S.ChatClient().AsIChatClient();
        using IChatClient local = new KvasirChatClient(S.Loop);

        var remote = await http.GetResponseAsync(Messages, Options(99));
        var inProcess = await local.GetResponseAsync(Messages, Options(99));
        Assert.Equal(remote.Text, inProcess.Text);
        Assert.Equal(remote.FinishReason, inProcess.FinishReason);
        Assert.Equal(remote.Usage!.InputTokenCount, inProcess.Usage!.InputTokenCount);
        Assert.Equal(remote.Usage.OutputTokenCount, inProcess.Usage.OutputTokenCount);
        Assert.Equal(inProcess.Usage.InputTokenCount + inProcess.Usage.OutputTokenCount, inProcess.Usage.TotalTokenCount);
        Assert.Equal(S.ModelName, local.GetService<ChatClientMetadata>()!.DefaultModelId);
    }

    [Fact]
    public async Task StreamingInProcessConcatenatesToTheWholeAnswer()
    {
        using IChatClient local = new KvasirChatClient(S.Loop);
        var whole = await local.GetResponseAsync(Messages, Options(5));
        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in local.GetStreamingResponseAsync(Messages, Options(5)))
        {
            updates.Add(u);
        }

        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Text)));
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().Single();
        Assert.Equal(whole.Usage!.OutputTokenCount, usage.Details.OutputTokenCount);
        Assert.NotNull(updates[^1].FinishReason);

        // The same through MEAI's OpenAI adapter over HTTP.
        var text = string.Empty;
        await foreach (var u in S.ChatClient().AsIChatClient().GetStreamingResponseAsync(Messages, Options(5)))
        {
            text += u.Text;
        }

        Assert.Equal(whole.Text, text);
    }

    [Fact]
    public async Task StopSequencesAndMaxOutputTokensMap()
    {
        using IChatClient local = new KvasirChatClient(S.Loop);
        var free = await local.GetResponseAsync(Messages, Options(17));
        var topK = Options(17);
        topK.TopK = 1;
        var greedy = Options(17);
        greedy.Temperature = 0f;
        Assert.Equal((await local.GetResponseAsync(Messages, greedy)).Text, (await local.GetResponseAsync(Messages, topK)).Text);
        Assert.Equal(ChatFinishReason.Length, free.FinishReason);
        Assert.Equal(10, free.Usage!.OutputTokenCount);
        Assert.True(free.Text.Length >= 4);
        var stop = free.Text.Substring(2, 2);
        var options = Options(17);
        options.StopSequences = [stop];
        var cut = await local.GetResponseAsync(Messages, options);
        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);
        Assert.Equal(free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)], cut.Text);
    }

    [Fact]
    public async Task CancellingAbortsTheRequestAndBadOptionsThrow()
    {
        using IChatClient local = new KvasirChatClient(S.Loop);
        using var cts = new CancellationTokenSource();
        var options = new ChatOptions { MaxOutputTokens = 400, AdditionalProperties = new() { ["ignore_eos"] = true } };
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var u in local.GetStreamingResponseAsync(Messages, options, cts.Token))
            {
                if (++seen == 2)
                {
                    await cts.CancelAsync();
                }
            }
        });
        await LoadAndLifecycleTests.WaitUntil(() => S.Engine.NumFreeBlocks == S.Engine.NumBlocks, TimeSpan.FromSeconds(10));

        await Assert.ThrowsAsync<ArgumentException>(() => local.GetResponseAsync(Messages, new ChatOptions { Temperature = 7f }));
        var tooMany = await Assert.ThrowsAsync<ArgumentException>(() => local.GetResponseAsync(Messages, new ChatOptions { MaxOutputTokens = 100_000 }));
        Assert.Contains($"the context is {S.Engine.MaxModelLen} tokens", tooMany.Message);
        var hugeConversation = new List<ChatMessage> { new(ChatRole.User, string.Join(" ", Enumerable.Range(0, 600).Select(i => $"w{i}"))) };
        var tooLong = await Assert.ThrowsAsync<EngineRejectedException>(() => local.GetResponseAsync(hugeConversation));
        Assert.Equal(SubmitStatus.PromptTooLong, tooLong.Status);
    }

    [Fact]
    public void PromptBuilderAddsNoSecondBos()
    {
        // A template that writes bos_token itself, on a vocabulary that asks for BOS: exactly one BOS.
        var tokenizer = S.Model.Tokenizer;
        var builder = new ChatPromptBuilder(tokenizer, Kvasir.Model.ChatTemplates.ChatTemplate.Parse("{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}"));
        var ids = builder.BuildPromptTokenIds([new("user", "hello")]);
        Assert.Equal(tokenizer.BosId, ids[0]);
        Assert.NotEqual(tokenizer.BosId, ids[1]);
        Assert.Equal(tokenizer.AddBos, ChatPromptBuilder.ForModel(S.Model).BuildPromptTokenIds([new("user", "hello")])[0] == tokenizer.BosId);
    }
}
