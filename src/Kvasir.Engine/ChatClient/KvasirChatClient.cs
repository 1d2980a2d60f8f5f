using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Kvasir.Engine.Generation;
using Kvasir.Model.Sampling;
using Microsoft.Extensions.AI;
using TemplateMessage = Kvasir.Model.ChatTemplates.ChatMessage;

namespace Kvasir.Engine.ChatClient;

/// <summary>
/// Kvasir as a Microsoft.Extensions.AI <see cref="IChatClient"/>: a .NET application embeds the engine and talks
/// to it in process, without HTTP. Requests go through the same <see cref="EngineLoop"/> the server uses.
/// </summary>
/// <remarks>
/// <para>Options mapped: <see cref="ChatOptions.Temperature"/>, <see cref="ChatOptions.TopP"/>, <see cref="ChatOptions.TopK"/>,
/// <see cref="ChatOptions.MaxOutputTokens"/> (default: the rest of the context), <see cref="ChatOptions.StopSequences"/>,
/// <see cref="ChatOptions.Seed"/>, <see cref="ChatOptions.FrequencyPenalty"/>, <see cref="ChatOptions.PresencePenalty"/>,
/// <see cref="ChatOptions.Instructions"/> (a system message in front). <see cref="ChatOptions.AdditionalProperties"/>
/// may carry <c>min_p</c> (float), <c>repetition_penalty</c> (float), <c>ignore_eos</c> (bool) and <c>priority</c> (int).
/// Messages contribute their text; tools, images and response formats are not supported.</para>
/// <para>Cancelling the token aborts the request in the engine (its KV blocks are freed within one step).
/// A refused request throws <see cref="EngineRejectedException"/>; invalid options throw <see cref="ArgumentException"/>.
/// The client does not own the loop: disposing it leaves the engine running.</para>
/// </remarks>
public sealed class KvasirChatClient : IChatClient
{
    private readonly EngineLoop _loop;
    private readonly ChatPromptBuilder _promptBuilder;
    private readonly string? _cacheSalt;
    private readonly ChatClientMetadata _metadata;

    /// <summary>Creates a client over a running (or about to be started) engine loop.</summary>
    /// <param name="loop">The engine loop; the caller starts and stops it.</param>
    /// <param name="promptBuilder">How messages become tokens; the model's own template (ChatML when it has none) when null.</param>
    /// <param name="cacheSalt">The tenant's cache salt for every request of this client, or null to share the prefix cache.</param>
    public KvasirChatClient(EngineLoop loop, ChatPromptBuilder? promptBuilder = null, string? cacheSalt = null)
    {
        _loop = loop ?? throw new ArgumentNullException(nameof(loop));
        _promptBuilder = promptBuilder ?? ChatPromptBuilder.ForModel(loop.Engine.Model);
        _cacheSalt = cacheSalt;
        _metadata = new ChatClientMetadata("kvasir", null, loop.Engine.ModelName);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (request, deltas) = await SubmitAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var text = new StringBuilder();
        FinishReason? finish = null;
        RequestUsage? usage = null;
        var completed = false;
        try
        {
            await foreach (var delta in deltas.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                text.Append(delta.Text);
                finish = delta.Finish ?? finish;
                usage = delta.Usage ?? usage;
            }

            completed = true;
        }
        finally
        {
            if (!completed)
            {
                _loop.Abort(request.RequestId);
            }
        }

        var message = new ChatMessage(ChatRole.Assistant, text.ToString()) { MessageId = request.RequestId };
        return new ChatResponse(message)
        {
            ResponseId = request.RequestId,
            ModelId = _loop.Engine.ModelName,
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = MapFinish(finish),
            Usage = usage is null ? null : MapUsage(usage),
        };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (request, deltas) = await SubmitAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var created = DateTimeOffset.UtcNow;
        var completed = false;
        try
        {
            await foreach (var delta in deltas.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (delta.Text.Length == 0 && delta.Finish is null)
                {
                    continue;
                }

                var update = new ChatResponseUpdate(ChatRole.Assistant, delta.Text)
                {
                    ResponseId = request.RequestId,
                    MessageId = request.RequestId,
                    ModelId = _loop.Engine.ModelName,
                    CreatedAt = created,
                    FinishReason = MapFinish(delta.Finish),
                };
                if (delta.Usage is { } usage)
                {
                    update.Contents.Add(new UsageContent(MapUsage(usage)));
                }

                yield return update;
            }

            completed = true;
        }
        finally
        {
            if (!completed)
            {
                _loop.Abort(request.RequestId);
            }
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        if (serviceType.IsInstanceOfType(_loop))
        {
            return _loop;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Does nothing: the engine loop belongs to whoever created it.</summary>
    public void Dispose()
    {
    }

    /// <summary>Builds the engine request for a conversation and options (exposed for tests and custom front ends).</summary>
    /// <exception cref="ArgumentException">An option is out of range (MaxOutputTokens beyond the context included).</exception>
    /// <exception cref="EngineRejectedException">The conversation alone fills the context.</exception>
    /// <exception cref="Kvasir.Model.ChatTemplates.ChatTemplateException">The chat template rejected the conversation.</exception>
    public EngineRequest CreateRequest(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var conversation = new List<TemplateMessage>();
        if (options?.Instructions is { Length: > 0 } instructions)
        {
            conversation.Add(new TemplateMessage("system", instructions));
        }

        foreach (var m in messages)
        {
            conversation.Add(new TemplateMessage(m.Role.Value.ToLowerInvariant(), m.Text));
        }

        if (conversation.Count == 0)
        {
            throw new ArgumentException("The conversation has no messages.", nameof(messages));
        }

        var prompt = _promptBuilder.BuildPromptTokenIds(conversation);
        var engine = _loop.Engine;
        var maxLen = engine.MaxModelLen;
        if (prompt.Length >= maxLen)
        {
            throw new EngineRejectedException(SubmitStatus.PromptTooLong,
                $"The conversation is {prompt.Length} tokens; the model's context is {maxLen} tokens, which leaves no room for a reply.");
        }

        var room = maxLen - prompt.Length;
        if (options?.MaxOutputTokens is int asked && asked > room)
        {
            throw new ArgumentException(
                $"MaxOutputTokens {asked} does not fit: the context is {maxLen} tokens and the conversation takes {prompt.Length}, leaving {room}.", nameof(options));
        }

        var extra = options?.AdditionalProperties;
        var sampling = new SamplingParams
        {
            Temperature = options?.Temperature ?? 1f,
            TopP = options?.TopP ?? 1f,
            TopK = options?.TopK ?? 0,
            MinP = Extra(extra, "min_p", 0f),
            RepetitionPenalty = Extra(extra, "repetition_penalty", 1f),
            PresencePenalty = options?.PresencePenalty ?? 0f,
            FrequencyPenalty = options?.FrequencyPenalty ?? 0f,
            Seed = options?.Seed is long seed ? unchecked((ulong)seed) : null,
            StopStrings = options?.StopSequences is { Count: > 0 } stops ? [.. stops] : [],
            IgnoreEos = Extra(extra, "ignore_eos", false),
            MaxTokens = options?.MaxOutputTokens ?? room,
        };
        if (sampling.Validate(engine.Model.Config.VocabSize) is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        return new EngineRequest
        {
            RequestId = "chat-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
            PromptTokenIds = prompt,
            Sampling = sampling,
            CacheSalt = _cacheSalt,
            Priority = Extra(extra, "priority", 0),
        };
    }

    private async Task<(EngineRequest Request, ChannelReader<TokenDelta> Deltas)> SubmitAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var request = CreateRequest(messages, options);
        var result = await _loop.SubmitAsync(request).ConfigureAwait(false);
        if (!result.IsAccepted || result.Deltas is null)
        {
            throw new EngineRejectedException(result.Status, result.ErrorMessage ?? $"The engine refused the request ({result.Status}).");
        }

        return (request, result.Deltas);
    }

    private static T Extra<T>(AdditionalPropertiesDictionary? extra, string key, T fallback)
        => extra is not null && extra.TryGetValue(key, out T? value) && value is not null ? value : fallback;

    private static ChatFinishReason? MapFinish(FinishReason? finish) => finish switch
    {
        FinishReason.Stop => ChatFinishReason.Stop,
        FinishReason.Length => ChatFinishReason.Length,
        FinishReason.Abort => new ChatFinishReason("abort"),
        _ => null,
    };

    private static UsageDetails MapUsage(RequestUsage usage) => new()
    {
        InputTokenCount = usage.PromptTokens,
        OutputTokenCount = usage.CompletionTokens,
        TotalTokenCount = usage.PromptTokens + usage.CompletionTokens,
        CachedInputTokenCount = usage.CachedTokens,
    };
}
