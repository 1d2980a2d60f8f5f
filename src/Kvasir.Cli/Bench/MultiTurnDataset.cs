namespace Kvasir.Cli.Bench;

/// <summary>
/// Multi-turn conversations whose history grows: request t of a conversation carries the t user turns and the t − 1
/// synthetic assistant answers before it, so each turn's prompt extends the previous one (a prefix-cache workload).
/// Requests go out turn by turn: every conversation's first turn, then every second turn, and so on; a turn is sent
/// only once the same conversation's previous turn has finished (<see cref="BenchRequest.After"/>), as a user would.
/// </summary>
public static class MultiTurnDataset
{
    /// <summary>Builds <see cref="DatasetOptions.NumPrompts"/> requests (ceil(n / turns) conversations), deterministic for a seed.</summary>
    public static IReadOnlyList<BenchRequest> Generate(DatasetOptions options, WordText text)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(text);
        var turns = Math.Max(1, options.MtTurns);
        var conversations = (options.NumPrompts + turns - 1) / turns;
        var random = new Random(options.Seed);
        var perConversation = new List<BenchRequest>[conversations];
        for (var c = 0; c < conversations; c++)
        {
            perConversation[c] = [];
            var history = new List<BenchMessage>();
            var promptLen = 0;
            for (var t = 0; t < turns; t++)
            {
                history.Add(new BenchMessage("user", text.Tokens(random, options.MtUserLen)));
                promptLen += options.MtUserLen;
                perConversation[c].Add(new BenchRequest([.. history], promptLen, options.MtOutputLen) { Turn = t + 1 });
                history.Add(new BenchMessage("assistant", text.Tokens(random, options.MtOutputLen)));
                promptLen += options.MtOutputLen;
            }
        }

        var requests = new List<BenchRequest>(options.NumPrompts);
        var previous = new int[conversations];
        for (var t = 0; t < turns; t++)
        {
            for (var c = 0; c < conversations && requests.Count < options.NumPrompts; c++)
            {
                requests.Add(perConversation[c][t] with { After = t == 0 ? -1 : previous[c] });
                previous[c] = requests.Count - 1;
            }
        }

        return requests;
    }
}
