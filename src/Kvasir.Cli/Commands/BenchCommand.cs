using System.CommandLine;
using System.Globalization;
using Kvasir.Cli.Bench;

namespace Kvasir.Cli.Commands;

/// <summary>
/// `kvasir bench serve --base-url URL [--dataset random|shared-prefix|multi-turn|sharegpt F|burstgpt F|mooncake F] ...`:
/// the serving benchmark (docs/bench-serve.md). Drives any OpenAI-compatible server with streamed requests, prints a
/// markdown summary and writes vLLM's result JSON; with two base URLs it runs the same workload against both and
/// prints each metric's ratio.
/// </summary>
public static class BenchCommand
{
    /// <summary>Builds the `bench` command with its `serve` subcommand.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        var bench = new Command("bench", "Benchmarks.");
        bench.Subcommands.Add(CreateServe(output, error));
        return bench;
    }

    private static Command CreateServe(TextWriter output, TextWriter error)
    {
        var baseUrl = new Option<string[]>("--base-url") { Description = "Server root (repeat, or give two, to compare A and B).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["http://127.0.0.1:8000"] };
        var compare = new Option<string[]>("--compare") { Description = "Two server roots A B: run the same workload against both, alternating, and print B / A.", AllowMultipleArgumentsPerToken = true, Arity = new ArgumentArity(2, 2) };
        var compareRounds = new Option<int>("--compare-rounds") { Description = "Rounds of A then B when comparing (reports the last round; all runs are written).", DefaultValueFactory = _ => 1 };
        var endpoint = new Option<string>("--endpoint") { Description = "completions or chat.", DefaultValueFactory = _ => "completions" };
        var model = new Option<string?>("--model") { Description = "Model name to send (default: the first of /v1/models)." };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer key." };
        var dataset = new Option<string[]>("--dataset") { Description = "random, shared-prefix, multi-turn, or sharegpt FILE, burstgpt FILE, mooncake FILE.", AllowMultipleArgumentsPerToken = true, Arity = new ArgumentArity(1, 2), DefaultValueFactory = _ => ["random"] };
        var datasetPath = new Option<string?>("--dataset-path") { Description = "The file of sharegpt, burstgpt or mooncake." };
        var numPrompts = new Option<int>("--num-prompts") { Description = "Requests to send (shared-prefix: groups × prompts per group instead).", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "Seed of the prompts and the arrival process.", DefaultValueFactory = _ => 0 };
        var randomInput = new Option<int>("--random-input-len") { DefaultValueFactory = _ => 1024, Description = "random: prompt tokens." };
        var randomOutput = new Option<int>("--random-output-len") { DefaultValueFactory = _ => 128, Description = "random: output tokens." };
        var randomRatio = new Option<double>("--random-range-ratio") { DefaultValueFactory = _ => 0.0, Description = "random: lengths uniform in [len(1-r), len(1+r)]." };
        var spGroups = new Option<int>("--sp-num-groups") { DefaultValueFactory = _ => 64, Description = "shared-prefix: groups (one system prompt each)." };
        var spPerGroup = new Option<int>("--sp-prompts-per-group") { DefaultValueFactory = _ => 16, Description = "shared-prefix: questions per group." };
        var spSystem = new Option<int>("--sp-system-prompt-len") { DefaultValueFactory = _ => 2048, Description = "shared-prefix: system prompt tokens." };
        var spQuestion = new Option<int>("--sp-question-len") { DefaultValueFactory = _ => 128, Description = "shared-prefix: question tokens." };
        var spOutput = new Option<int>("--sp-output-len") { DefaultValueFactory = _ => 256, Description = "shared-prefix: output tokens." };
        var mtTurns = new Option<int>("--mt-turns") { DefaultValueFactory = _ => 4, Description = "multi-turn: user turns per conversation." };
        var mtUser = new Option<int>("--mt-user-len") { DefaultValueFactory = _ => 64, Description = "multi-turn: tokens per user turn." };
        var mtOutput = new Option<int>("--mt-output-len") { DefaultValueFactory = _ => 64, Description = "multi-turn: tokens per answer." };
        var sharegptOutput = new Option<int?>("--sharegpt-output-len") { Description = "sharegpt: fixed output length (default: the reply's)." };
        var mooncakeBlock = new Option<int>("--mooncake-block-size") { DefaultValueFactory = _ => 512, Description = "mooncake: tokens per hash id." };
        var maxInput = new Option<int>("--max-input-len") { Description = "Traces: clamp prompt lengths (0: no clamp)." };
        var maxOutput = new Option<int>("--max-output-len") { Description = "Traces: clamp output lengths (0: no clamp)." };
        var requestRate = new Option<string>("--request-rate") { DefaultValueFactory = _ => "inf", Description = "Requests per second, or inf (all at once)." };
        var burstiness = new Option<double>("--burstiness") { DefaultValueFactory = _ => 1.0, Description = "Gamma shape of the arrival gaps (1.0: Poisson)." };
        var maxConcurrency = new Option<int>("--max-concurrency") { Description = "Most requests in flight (closed loop)." };
        var timeScale = new Option<double?>("--time-scale") { Description = "Traces: multiply timestamps (0.5 replays twice as fast, 0 all at once)." };
        var ignoreEos = new Option<bool>("--ignore-eos") { DefaultValueFactory = _ => true, Description = "Send ignore_eos so output lengths are exact (default true)." };
        var warmup = new Option<int>("--warmup") { Description = "Requests sent one by one before the measured run." };
        var goodput = new Option<string[]>("--goodput") { Description = "SLOs: ttft:MS tpot:MS e2el:MS.", AllowMultipleArgumentsPerToken = true };
        var percentiles = new Option<string>("--percentiles") { DefaultValueFactory = _ => "50,90,99", Description = "Percentiles to report." };
        var tokensPerWord = new Option<double?>("--tokens-per-word") { Description = "Tokens per prompt word (default: calibrated with the server's /tokenize, else 1.3)." };
        var metricsInterval = new Option<double>("--metrics-interval") { DefaultValueFactory = _ => 0.25, Description = "Seconds between /metrics samples (0: only before and after)." };
        var resultFile = new Option<string?>("--result-file") { Description = "Result JSON (default bench-<timestamp>.json)." };
        var saveDetailed = new Option<bool>("--save-detailed") { DefaultValueFactory = _ => true, Description = "Write the per-request lists (input_lens, ttfts, itls, ...) into the result file." };
        var plotDir = new Option<string?>("--plot-dir") { Description = "Write PNG plots here: latency CDFs, output throughput and KV usage over time." };
        var command = new Command("serve", "Benchmark an OpenAI-compatible server: TTFT, TPOT, ITL, E2EL, throughput, goodput, prefix-cache hits.")
        {
            baseUrl, compare, compareRounds, endpoint, model, apiKey, dataset, datasetPath, numPrompts, seed, randomInput, randomOutput, randomRatio,
            spGroups, spPerGroup, spSystem, spQuestion, spOutput, mtTurns, mtUser, mtOutput, sharegptOutput, mooncakeBlock, maxInput, maxOutput,
            requestRate, burstiness, maxConcurrency, timeScale, ignoreEos, warmup, goodput, percentiles, tokensPerWord, metricsInterval, resultFile, plotDir, saveDetailed,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var datasetArgs = parse.GetValue(dataset) ?? ["random"];
            var data = new DatasetOptions
            {
                Name = datasetArgs[0].ToLowerInvariant(),
                Path = datasetArgs.Length > 1 ? datasetArgs[1] : parse.GetValue(datasetPath),
                NumPrompts = Positive(parse.GetValue(numPrompts), "--num-prompts"),
                Seed = parse.GetValue(seed),
                RandomInputLen = Positive(parse.GetValue(randomInput), "--random-input-len"),
                RandomOutputLen = Positive(parse.GetValue(randomOutput), "--random-output-len"),
                RandomRangeRatio = parse.GetValue(randomRatio),
                SpNumGroups = Positive(parse.GetValue(spGroups), "--sp-num-groups"),
                SpPromptsPerGroup = Positive(parse.GetValue(spPerGroup), "--sp-prompts-per-group"),
                SpSystemPromptLen = Positive(parse.GetValue(spSystem), "--sp-system-prompt-len"),
                SpQuestionLen = Positive(parse.GetValue(spQuestion), "--sp-question-len"),
                SpOutputLen = Positive(parse.GetValue(spOutput), "--sp-output-len"),
                MtTurns = Positive(parse.GetValue(mtTurns), "--mt-turns"),
                MtUserLen = Positive(parse.GetValue(mtUser), "--mt-user-len"),
                MtOutputLen = Positive(parse.GetValue(mtOutput), "--mt-output-len"),
                ShareGptOutputLen = parse.GetValue(sharegptOutput),
                MooncakeBlockSize = Positive(parse.GetValue(mooncakeBlock), "--mooncake-block-size"),
                MaxInputLen = parse.GetValue(maxInput),
                MaxOutputLen = parse.GetValue(maxOutput),
            };
            var endpointName = parse.GetValue(endpoint)!.ToLowerInvariant();
            if (endpointName is not ("completions" or "chat"))
            {
                throw new CliException($"--endpoint '{endpointName}' must be completions or chat.");
            }

            var options = new BenchOptions
            {
                Chat = endpointName == "chat",
                Model = parse.GetValue(model),
                ApiKey = parse.GetValue(apiKey),
                RequestRate = SloParser.ParseRate(parse.GetValue(requestRate)!),
                Burstiness = parse.GetValue(burstiness),
                MaxConcurrency = parse.GetValue(maxConcurrency),
                TimeScale = parse.GetValue(timeScale),
                IgnoreEos = parse.GetValue(ignoreEos),
                Warmup = parse.GetValue(warmup),
                Slos = SloParser.ParseGoodput(parse.GetValue(goodput) ?? []),
                Percentiles = SloParser.ParsePercentiles(parse.GetValue(percentiles)!),
                TokensPerWord = parse.GetValue(tokensPerWord),
                MetricsInterval = parse.GetValue(metricsInterval),
                PlotDirectory = parse.GetValue(plotDir),
                SaveDetailed = parse.GetValue(saveDetailed),
            };
            var urls = parse.GetValue(compare) is { Length: 2 } pair ? pair : parse.GetValue(baseUrl) ?? [];
            if (urls.Length is < 1 or > 2)
            {
                throw new CliException("give one --base-url, or two (or --compare A B) to compare servers.");
            }

            return await RunAsync(urls, data, options, Math.Max(1, parse.GetValue(compareRounds)), parse.GetValue(resultFile), output, error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Runs the benchmark against one server, or against two (A then B per round) and prints the ratios.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> baseUrls, DatasetOptions data, BenchOptions options, int rounds, string? resultFile,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(baseUrls);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var clients = new OpenAiStreamClient[baseUrls.Count];
        try
        {
            for (var i = 0; i < clients.Length; i++)
            {
                clients[i] = new OpenAiStreamClient(baseUrls[i], options.ApiKey);
            }

            var modelName = options.Model ?? await clients[0].FirstModelAsync(cancellationToken).ConfigureAwait(false);
            var tokensPerWord = options.TokensPerWord
                ?? await clients[0].TokensPerWordAsync(modelName, cancellationToken).ConfigureAwait(false)
                ?? 1.3;
            var requests = BenchWorkload.Build(data, new WordText(tokensPerWord));
            if (requests.Count == 0)
            {
                throw new CliException($"the {data.Name} dataset gave no requests.");
            }

            var offsets = BenchWorkload.Offsets(requests, options, data.Seed);
            var date = DateTime.Now;
            var basePath = resultFile ?? $"bench-{date.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.json";
            error.WriteLine($"bench serve: {requests.Count} {data.Name} requests, {tokensPerWord.ToString("0.###", CultureInfo.InvariantCulture)} tokens/word, " +
                $"rate {(double.IsPositiveInfinity(options.RequestRate) ? "inf" : options.RequestRate.ToString(CultureInfo.InvariantCulture))}" +
                (options.MaxConcurrency > 0 ? $", concurrency ≤ {options.MaxConcurrency}" : ""));
            var reports = new BenchReport[clients.Length];
            for (var round = 0; round < rounds; round++)
            {
                for (var c = 0; c < clients.Length; c++)
                {
                    var label = clients.Length == 1 ? "" : c == 0 ? "A" : "B";
                    var client = clients[c];
                    var run = await BenchProgress.RunAsync(error, $"{label} {client.BaseAddress}".Trim(), requests.Count,
                        report => BenchRunner.RunAsync(client, modelName, requests, offsets, options, tokensPerWord, report, cancellationToken)).ConfigureAwait(false);
                    reports[c] = BenchReport.Create(run, options);
                    var path = clients.Length == 1 ? basePath : Suffixed(basePath, rounds == 1 ? label : $"{label}{round + 1}");
                    BenchResultWriter.Write(path, reports[c], options, data, date);
                    error.WriteLine($"wrote {path}");
                }
            }

            for (var c = 0; c < clients.Length; c++)
            {
                BenchSummary.Write(output, reports[c], clients.Length == 1 ? $"Serving benchmark: {reports[c].Run.BaseUrl}" : $"{(c == 0 ? "A" : "B")}: {reports[c].Run.BaseUrl}");
            }

            if (clients.Length == 2)
            {
                BenchSummary.WriteComparison(output, reports[0], reports[1]);
            }

            if (options.PlotDirectory is { } plots)
            {
                string[] labels = clients.Length == 1 ? [reports[0].Run.BaseUrl] : [$"A {reports[0].Run.BaseUrl}", $"B {reports[1].Run.BaseUrl}"];
                foreach (var plot in BenchPlots.Write(plots, reports, labels))
                {
                    error.WriteLine($"wrote {plot}");
                }
            }

            var failed = 0;
            foreach (var r in reports)
            {
                failed += r.Completed == 0 ? 1 : 0;
            }

            return failed == 0 ? 0 : 1;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            error.WriteLine("bench serve: cancelled.");
            return 130;
        }
        finally
        {
            foreach (var client in clients)
            {
                client?.Dispose();
            }
        }
    }

    private static string Suffixed(string path, string suffix)
    {
        var ext = Path.GetExtension(path);
        return path[..^ext.Length] + "-" + suffix + ext;
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new CliException($"{name} must be at least 1, not {value}.");
}
