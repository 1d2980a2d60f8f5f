using System.Globalization;
using Spectre.Console;

namespace Kvasir.Cli.Bench;

/// <summary>
/// The progress bar of a benchmark run (Spectre.Console), drawn on the error writer so that the markdown summary on
/// the output stays clean: requests finished of the total, failures and 429s so far, elapsed and remaining time.
/// On a writer that is not a terminal (redirected, or a test's StringWriter) Spectre writes plain progress lines instead.
/// </summary>
public static class BenchProgress
{
    /// <summary>Runs <paramref name="body"/> under a progress bar labelled <paramref name="label"/> over <paramref name="total"/> requests.</summary>
    /// <param name="error">Where the bar is drawn.</param>
    /// <param name="label">What is being run (the server's address).</param>
    /// <param name="total">Requests in the run.</param>
    /// <param name="body">The run; it calls the given action with each request's outcome as it finishes.</param>
    public static async Task<T> RunAsync<T>(TextWriter error, string label, int total, Func<Action<RequestOutcome>, Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(body);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(error),
            Ansi = AnsiSupport.Detect,
            Interactive = InteractionSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
        });
        var progress = console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn());
        return await progress.StartAsync(async context =>
        {
            var name = Markup.Escape(label);
            var task = context.AddTask(name, maxValue: Math.Max(1, total));
            var state = new Counts();
            void Report(RequestOutcome outcome)
            {
                lock (state)
                {
                    state.Done++;
                    state.Failed += outcome.Success ? 0 : 1;
                    state.Rejected += outcome.Status == 429 ? 1 : 0;
                    task.Value = state.Done;
                    task.Description = name + " " + Describe(state.Done, total, state.Failed, state.Rejected);
                }
            }

            task.Description = name + " " + Describe(0, total, 0, 0);
            var result = await body(Report).ConfigureAwait(false);
            task.Value = task.MaxValue;
            return result;
        }).ConfigureAwait(false);
    }

    /// <summary>The counts shown beside the bar, for example "12/40 requests, 2 failed (2 × 429)".</summary>
    public static string Describe(int done, int total, int failed, int rejected) =>
        string.Create(CultureInfo.InvariantCulture, $"{done}/{total} requests") +
        (failed == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $", {failed} failed") + (rejected == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" ({rejected} × 429)")));

    private sealed class Counts
    {
        public int Done { get; set; }

        public int Failed { get; set; }

        public int Rejected { get; set; }
    }
}
