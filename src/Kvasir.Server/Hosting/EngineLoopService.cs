using Kvasir.Engine;
using Microsoft.Extensions.Hosting;

namespace Kvasir.Server.Hosting;

/// <summary>
/// Starts the engine thread with the host and drains it on shutdown: new requests get 503 while the ones in
/// flight finish; when the host's shutdown timeout fires, the rest are aborted (their KV blocks freed).
/// </summary>
internal sealed class EngineLoopService(EngineLoop loop) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        loop.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => loop.StopAsync(cancellationToken);
}
