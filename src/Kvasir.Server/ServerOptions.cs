namespace Kvasir.Server;

/// <summary>How the HTTP server listens and whom it serves (the server flags of `kvasir serve`).</summary>
public sealed record ServerOptions
{
    /// <summary>Address to listen on: an IP address, "localhost", or "0.0.0.0" / "*" for every interface.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to listen on; 0 picks a free one (read it back from <see cref="KvasirServer.BaseAddress"/>).</summary>
    public int Port { get; init; } = 8000;

    /// <summary>
    /// API keys clients send as <c>Authorization: Bearer KEY</c>, each "KEY" or "KEY=TENANT". Requests with the same
    /// tenant share the prefix cache; different tenants never do. A key without a tenant is a tenant of its own.
    /// Empty: no authentication and one shared cache.
    /// </summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

    /// <summary>Jinja source of a chat template that replaces the model's own (--chat-template FILE), or null.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Largest request body accepted; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>How long shutdown waits for requests in flight before aborting them.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Seconds a client is told to wait (Retry-After) when the waiting queue is full.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Checks the options; returns an error message or null.</summary>
    public string? Validate()
    {
        if (Port is < 0 or > 65535)
        {
            return $"--port must be in [0, 65535], got {Port}.";
        }

        if (MaxRequestBodyBytes < 1024)
        {
            return $"the request body limit must be at least 1024 bytes, got {MaxRequestBodyBytes}.";
        }

        if (RetryAfterSeconds < 0)
        {
            return $"Retry-After must be >= 0 seconds, got {RetryAfterSeconds}.";
        }

        return ApiKeyStore.Validate(ApiKeys);
    }
}
