namespace Kvasir.Cli.Bench;

/// <summary>Builds the requests of a dataset and their send offsets.</summary>
public static class BenchWorkload
{
    /// <summary>The dataset names `--dataset` accepts.</summary>
    public static readonly string[] Names = ["random", "shared-prefix", "multi-turn", "sharegpt", "burstgpt", "mooncake"];

    /// <summary>The requests of <see cref="DatasetOptions.Name"/>.</summary>
    public static IReadOnlyList<BenchRequest> Build(DatasetOptions options, WordText text)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Name switch
        {
            "random" => RandomDataset.Generate(options, text),
            "shared-prefix" => SharedPrefixDataset.Generate(options, text),
            "multi-turn" => MultiTurnDataset.Generate(options, text),
            "sharegpt" => ShareGptDataset.Load(RequirePath(options), options, text),
            "burstgpt" => BurstGptTrace.Load(RequirePath(options), options, text),
            "mooncake" => MooncakeTrace.Load(RequirePath(options), options, text),
            var other => throw new CliException($"unknown --dataset '{other}': use one of {string.Join(", ", Names)}."),
        };
    }

    /// <summary>
    /// Send offsets: a trace's timestamps × <see cref="BenchOptions.TimeScale"/> when the requests have arrival times
    /// and a time scale is given (default 1 for traces unless a request rate was set), else the gamma process.
    /// </summary>
    public static double[] Offsets(IReadOnlyList<BenchRequest> requests, BenchOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(options);
        var isTrace = requests.Count > 0 && requests[0].ArrivalSeconds is not null;
        if (isTrace && (options.TimeScale is not null || double.IsPositiveInfinity(options.RequestRate)))
        {
            return ArrivalSchedule.Trace(requests, options.TimeScale ?? 1.0);
        }

        return ArrivalSchedule.Gamma(requests.Count, options.RequestRate, options.Burstiness, seed);
    }

    private static string RequirePath(DatasetOptions options)
    {
        if (options.Path is null)
        {
            throw new CliException($"--dataset {options.Name} needs a file: --dataset {options.Name} FILE (or --dataset-path FILE).");
        }

        return File.Exists(options.Path) ? options.Path : throw new CliException($"the {options.Name} file '{options.Path}' does not exist.");
    }
}
