using System.Diagnostics;

namespace Kvasir.Cli.Bench;

/// <summary>
/// Runs one workload against one server: optional warm-up requests, then every request at its send offset (open
/// loop), at most <see cref="BenchOptions.MaxConcurrency"/> in flight (closed loop when the rate is infinite), while
/// /metrics is sampled; returns the raw <see cref="BenchRun"/>.
/// </summary>
public static class BenchRunner
{
    /// <summary>Runs the benchmark.</summary>
    /// <param name="client">The server.</param>
    /// <param name="model">The model name sent.</param>
    /// <param name="requests">The workload.</param>
    /// <param name="offsets">Send offsets in seconds, one per request (<see cref="ArrivalSchedule"/>).</param>
    /// <param name="options">Run options.</param>
    /// <param name="tokensPerWord">Recorded in the run.</param>
    /// <param name="progress">Called with each request's outcome as it finishes (from any thread); may be null.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<BenchRun> RunAsync(OpenAiStreamClient client, string model, IReadOnlyList<BenchRequest> requests, IReadOnlyList<double> offsets,
        BenchOptions options, double tokensPerWord, Action<RequestOutcome>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(options);
        if (offsets.Count != requests.Count)
        {
            throw new ArgumentException("one send offset per request", nameof(offsets));
        }

        var bodies = new string[requests.Count];
        for (var i = 0; i < bodies.Length; i++)
        {
            bodies[i] = OpenAiStreamClient.BuildBody(requests[i], model, options.Chat, options.IgnoreEos);
        }

        for (var i = 0; i < options.Warmup && requests.Count > 0; i++)
        {
            var now = Stopwatch.GetTimestamp();
            var warm = await client.SendAsync(requests[i % requests.Count], bodies[i % requests.Count], options.Chat, now, now, cancellationToken).ConfigureAwait(false);
            if (!warm.Success && i == 0)
            {
                throw new CliException($"the warm-up request to {client.BaseAddress} failed: {warm.Error}");
            }
        }

        var sampler = new MetricsSampler(client, TimeSpan.FromSeconds(Math.Max(0.01, options.MetricsInterval)));
        await sampler.StartAsync(cancellationToken).ConfigureAwait(false);
        using var stopSampling = new CancellationTokenSource();
        using var limit = options.MaxConcurrency > 0 ? new SemaphoreSlim(options.MaxConcurrency) : null;
        var outcomes = new RequestOutcome[requests.Count];
        var tasks = new Task[requests.Count];
        var start = Stopwatch.GetTimestamp();
        var sampling = options.MetricsInterval > 0 ? Task.Run(() => sampler.SampleAsync(start, stopSampling.Token), CancellationToken.None) : Task.CompletedTask;
        for (var i = 0; i < requests.Count; i++)
        {
            var wait = offsets[i] - Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait), cancellationToken).ConfigureAwait(false);
            }

            // A conversation's next turn waits for its previous one (before taking a concurrency slot).
            if (requests[i].After >= 0)
            {
                await tasks[requests[i].After].ConfigureAwait(false);
            }

            if (limit is not null)
            {
                await limit.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            // Called directly (no Task.Run): the send starts on this thread in request order, and its start time is
            // taken here, so a busy thread pool cannot reorder or delay the recorded arrivals.
            tasks[i] = SendOneAsync(i, Stopwatch.GetTimestamp());
        }

        async Task SendOneAsync(int index, long sendTimestamp)
        {
            try
            {
                var outcome = await client.SendAsync(requests[index], bodies[index], options.Chat, start, sendTimestamp, cancellationToken).ConfigureAwait(false);
                outcomes[index] = outcome with { Turn = requests[index].Turn };
            }
            finally
            {
                limit?.Release();
            }

            progress?.Invoke(outcomes[index]);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        var duration = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await stopSampling.CancelAsync().ConfigureAwait(false);
        await sampling.ConfigureAwait(false);
        await sampler.FinishAsync(cancellationToken).ConfigureAwait(false);
        return new BenchRun
        {
            BaseUrl = client.BaseAddress.ToString().TrimEnd('/'), Model = model, Outcomes = outcomes, Duration = duration,
            MetricDeltas = sampler.Deltas, MetricSamples = sampler.Samples, TokensPerWord = tokensPerWord,
        };
    }
}
