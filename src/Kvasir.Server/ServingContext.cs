using System.Security.Cryptography;
using System.Threading.Channels;
using Kvasir.Engine;
using Kvasir.Engine.ChatClient;
using Kvasir.Model.Tokenizers;
using Kvasir.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Kvasir.Server;

/// <summary>
/// What every endpoint shares: the engine loop, the served model's name and tokenizer, the prompt builder,
/// the options, and the rules that turn a parsed request into an <see cref="EngineRequest"/> (context limits,
/// the tenant's cache salt) and an engine refusal into an HTTP answer.
/// </summary>
internal sealed class ServingContext(EngineLoop loop, ServerOptions options, ChatPromptBuilder prompts, ApiKeyStore keys, TextWriter? log)
{
    /// <summary>HttpContext.Items key of the authenticated tenant.</summary>
    public const string TenantItem = "kvasir.tenant";

    public EngineLoop Loop { get; } = loop;

    public LlmEngine Engine => Loop.Engine;

    public Tokenizer Tokenizer => Loop.Engine.Model.Tokenizer;

    public string ModelName => Loop.Engine.ModelName;

    public ServerOptions Options { get; } = options;

    public ChatPromptBuilder Prompts { get; } = prompts;

    public ApiKeyStore Keys { get; } = keys;

    public TextWriter? Log { get; } = log;

    /// <summary>Unix time the server started (the model's "created").</summary>
    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>404 unless the request names the served model (or none).</summary>
    public void CheckModel(string? model)
    {
        if (model is not null && !string.Equals(model, ModelName, StringComparison.Ordinal))
        {
            throw new ApiException(StatusCodes.Status404NotFound, $"The model '{model}' does not exist: this server serves '{ModelName}' (see GET /v1/models).",
                "model", ApiErrorTypes.InvalidRequest, "model_not_found");
        }
    }

    /// <summary>A fresh id for a response and its engine request ("chatcmpl-…", "cmpl-…"; never contains '#').</summary>
    public static string NewId(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>
    /// Checks the prompt against the context (both numbers in the message), decides max_tokens (the rest of the
    /// context for chat, 16 for completions, as vLLM), validates sampling against the vocabulary, and sets the
    /// tenant's cache salt.
    /// </summary>
    public EngineRequest CreateRequest(HttpContext http, string id, int[] prompt, GenerationFields g, string promptField, bool chat)
    {
        var maxLen = Engine.MaxModelLen;
        if (prompt.Length == 0)
        {
            throw ApiException.BadRequest("The prompt is empty after tokenization: send some text.", promptField);
        }

        var vocab = Tokenizer.VocabSize;
        foreach (var t in prompt)
        {
            if ((uint)t >= (uint)vocab)
            {
                throw ApiException.BadRequest($"Token id {t} in the prompt is not a token of this model (vocabulary size {vocab}).", promptField);
            }
        }

        var what = chat ? "messages" : "prompt";
        if (prompt.Length >= maxLen)
        {
            throw ApiException.BadRequest(
                $"This model's maximum context length is {maxLen} tokens. However, your request has {prompt.Length} input tokens ({what}), leaving no room for a completion. Please reduce the length of the {what}.",
                promptField, "context_length_exceeded");
        }

        int maxTokens;
        if (g.MaxTokens is int asked)
        {
            if ((long)prompt.Length + asked > maxLen)
            {
                throw ApiException.BadRequest(
                    $"This model's maximum context length is {maxLen} tokens. However, you requested {(long)prompt.Length + asked} tokens ({prompt.Length} in the {what}, {asked} in the completion). Please reduce the length of the {what} or the completion.",
                    g.MaxTokensField, "context_length_exceeded");
            }

            maxTokens = asked;
        }
        else
        {
            maxTokens = chat ? maxLen - prompt.Length : Math.Min(16, maxLen - prompt.Length);
        }

        var sampling = g.Sampling with { MaxTokens = maxTokens };
        if (sampling.Validate(vocab) is { } problem)
        {
            throw ApiException.BadRequest(problem, ParamOf(problem));
        }

        var tenant = http.Items.TryGetValue(TenantItem, out var item) ? item as string : null;
        return new EngineRequest
        {
            RequestId = id,
            PromptTokenIds = prompt,
            Sampling = sampling,
            N = g.N,
            CacheSalt = tenant is null ? null : "tenant:" + tenant,
            Priority = g.Priority,
            SkipSpecialTokens = g.SkipSpecialTokens,
        };
    }

    /// <summary>Submits a request; a refusal becomes the matching HTTP error (429 with Retry-After, 400, 503).</summary>
    public async Task<ChannelReader<TokenDelta>> SubmitAsync(HttpContext http, EngineRequest request)
    {
        var result = await Loop.SubmitAsync(request).ConfigureAwait(false);
        if (result.IsAccepted && result.Deltas is { } deltas)
        {
            return deltas;
        }

        var message = result.ErrorMessage ?? $"The engine refused the request ({result.Status}).";
        switch (result.Status)
        {
            case SubmitStatus.QueueFull:
                http.Response.Headers.RetryAfter = Options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                throw new ApiException(StatusCodes.Status429TooManyRequests, message, null, ApiErrorTypes.RateLimit, "queue_full");
            case SubmitStatus.ShuttingDown:
                throw new ApiException(StatusCodes.Status503ServiceUnavailable, message, null, ApiErrorTypes.Server, "shutting_down");
            case SubmitStatus.PromptTooLong:
            case SubmitStatus.ExceedsKvCapacity:
                throw ApiException.BadRequest(message, null, "context_length_exceeded");
            default:
                throw ApiException.BadRequest(message);
        }
    }

    // SamplingParams' messages start with the field's name ("temperature must be ..."); use it as the param.
    private static string? ParamOf(string message)
    {
        var space = message.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return null;
        }

        var word = message[..space];
        foreach (var c in word)
        {
            if (!(char.IsAsciiLetterLower(c) || c == '_' || c == '[' || c == ']' || char.IsAsciiDigit(c)))
            {
                return null;
            }
        }

        return word;
    }
}
