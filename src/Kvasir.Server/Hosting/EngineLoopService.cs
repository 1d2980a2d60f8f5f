using Kvasir.Engine;
using Microsoft.Extensions.Hosting;

namespace Kvasir.Server.Hosting;

/// <summary>
/// Starts the engine thread with the host and drains it on shutdown: new requests get 503 while the ones in
/// flight finish; when the host's shutdown timeout fires, the rest are aborted (their KV blocks freed).
/// </summary>
/// <remarks>
/// The refusing starts in <see cref="StoppingAsync"/>, which the host runs before any service's StopAsync: the web
/// server's own StopAsync waits for the open HTTP requests, and the engine must not take new work while it does.
/// </remarks>
internal sealed class EngineLoopService(EngineLoop loop) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        loop.Start();
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        loop.BeginDraining();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => loop.StopAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
