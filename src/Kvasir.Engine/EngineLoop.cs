using System.Threading.Channels;

namespace Kvasir.Engine;

/// <summary>
/// The one thread that owns all engine state. HTTP handlers, the CLI and the in-process chat client talk to
/// it only through this class: submit a request (answered on the engine thread, so admission decisions are
/// the scheduler's), read its deltas from a channel, abort it. When there is no work the thread blocks on
/// its command channel: idle costs no CPU.
/// </summary>
public sealed class EngineLoop : IAsyncDisposable
{
    private readonly LlmEngine _engine;
    private readonly Channel<Command> _commands = Channel.CreateUnbounded<Command>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _iterations;
    private volatile bool _draining;
    private volatile bool _started;

    /// <summary>Wraps an engine; call <see cref="Start"/> to run it.</summary>
    public EngineLoop(LlmEngine engine)
    {
        _engine = engine ?? throw new ArgumentNullException(nameof(engine));
        _thread = new Thread(Run) { IsBackground = true, Name = "kvasir-engine" };
    }

    /// <summary>The engine (its counters and metrics are safe to read from any thread).</summary>
    public LlmEngine Engine => _engine;

    /// <summary>Passes through the loop so far (a busy-waiting loop would make this grow while idle).</summary>
    internal long Iterations => Interlocked.Read(ref _iterations);

    /// <summary>True once shutdown has begun: new requests are refused.</summary>
    public bool IsShuttingDown => _draining;

    /// <summary>Starts the engine thread.</summary>
    public void Start()
    {
        if (!_started)
        {
            _started = true;
            _thread.Start();
        }
    }

    /// <summary>
    /// Submits a request. The answer comes from the engine thread: accepted with a channel of deltas, or
    /// rejected (queue full, prompt too long, KV pool too small, shutting down) with a clear message.
    /// </summary>
    public Task<SubmitResult> SubmitAsync(EngineRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_draining)
        {
            return Task.FromResult(new SubmitResult { Status = SubmitStatus.ShuttingDown, ErrorMessage = "The server is shutting down; retry on another replica." });
        }

        var done = new TaskCompletionSource<SubmitResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_commands.Writer.TryWrite(new Command.Submit(request, done)))
        {
            done.SetResult(new SubmitResult { Status = SubmitStatus.ShuttingDown, ErrorMessage = "The engine has stopped." });
        }

        return done.Task;
    }

    /// <summary>Aborts a request (any sequence of it) at any stage; its KV blocks are freed within one step.</summary>
    public void Abort(string requestId) => _commands.Writer.TryWrite(new Command.Abort(requestId));

    /// <summary>
    /// Starts refusing new requests (<see cref="SubmitStatus.ShuttingDown"/>) while the engine keeps running the ones in
    /// flight; <see cref="StopAsync"/> then drains and ends it. A host calls this as soon as shutdown begins, before
    /// its web server waits for the open HTTP requests.
    /// </summary>
    public void BeginDraining() => _draining = true;

    /// <summary>
    /// Stops the engine: refuses new requests, lets the requests in flight finish (or aborts them when
    /// <paramref name="cancellationToken"/> fires), then ends the thread.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        _draining = true;
        _commands.Writer.TryWrite(new Command.Drain());
        if (!_started)
        {
            return;
        }

        using (cancellationToken.Register(() => _commands.Writer.TryWrite(new Command.AbortAll())))
        {
            await _stopped.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Stops the engine, aborting what is in flight.</summary>
    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync().ConfigureAwait(false);
        await StopAsync(cts.Token).ConfigureAwait(false);
    }

    private void Run()
    {
        var reader = _commands.Reader;
        var drain = false;
        try
        {
            while (true)
            {
                Interlocked.Increment(ref _iterations);
                while (reader.TryRead(out var command))
                {
                    drain |= Handle(command);
                }

                if (_engine.HasWork)
                {
                    _engine.Step();
                    continue;
                }

                if (drain)
                {
                    break;
                }

                // Idle: block until a command arrives (no spinning, no polling).
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            _engine.FailAll(e);
            throw;
        }
        finally
        {
            _commands.Writer.TryComplete();
            while (reader.TryRead(out var command))
            {
                if (command is Command.Submit s)
                {
                    s.Done.TrySetResult(new SubmitResult { Status = SubmitStatus.ShuttingDown, ErrorMessage = "The engine has stopped." });
                }
            }

            _stopped.TrySetResult();
        }
    }

    private bool Handle(Command command)
    {
        switch (command)
        {
            case Command.Submit s:
                try
                {
                    s.Done.TrySetResult(_draining
                        ? new SubmitResult { Status = SubmitStatus.ShuttingDown, ErrorMessage = "The server is shutting down; retry on another replica." }
                        : _engine.AddRequest(s.Request));
                }
                catch (ArgumentException e)
                {
                    s.Done.TrySetResult(new SubmitResult { Status = SubmitStatus.Invalid, ErrorMessage = e.Message });
                }

                return false;
            case Command.Abort a:
                _engine.Abort(a.RequestId);
                return false;
            case Command.AbortAll:
                _engine.AbortAll();
                return true;
            case Command.Drain:
                return true;
            default:
                return false;
        }
    }

    private abstract record Command
    {
        public sealed record Submit(EngineRequest Request, TaskCompletionSource<SubmitResult> Done) : Command;

        public sealed record Abort(string RequestId) : Command;

        public sealed record AbortAll : Command;

        public sealed record Drain : Command;
    }
}
