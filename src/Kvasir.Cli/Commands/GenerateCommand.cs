using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Kvasir.Engine.Generation;
using Kvasir.Kernels.Attention;
using Kvasir.Model;
using Kvasir.Model.Sampling;

namespace Kvasir.Cli.Commands;

/// <summary>`kvasir generate --model m.gguf --prompt "..."`: streams generated text to standard output.</summary>
public static class GenerateCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string?>("--model", "-m") { Description = "Path of a GGUF model file (default: the bundled model)." };
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt text.", Required = true };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature", "--temp") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "Keep only the k most likely tokens (0 = off).", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling: keep the smallest set with this total probability (1 = off).", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "Drop tokens less likely than min-p times the most likely one (0 = off).", DefaultValueFactory = _ => 0.05f };
        var repeatPenalty = new Option<float>("--repeat-penalty") { Description = "Penalty on recently seen tokens (1 = off).", DefaultValueFactory = _ => 1f };
        var repeatLastN = new Option<int>("--repeat-last-n") { Description = "How many recent tokens the repeat penalty looks at (-1 = all).", DefaultValueFactory = _ => 64 };
        var presence = new Option<float>("--presence-penalty") { Description = "OpenAI presence penalty (-2..2)." };
        var frequency = new Option<float>("--frequency-penalty") { Description = "OpenAI frequency penalty (-2..2)." };
        var seed = new Option<ulong?>("--seed", "-s") { Description = "Seed: the same seed gives the same tokens." };
        var stop = new Option<string[]>("--stop") { Description = "Stop string (repeatable); never printed.", AllowMultipleArgumentsPerToken = false };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating past end-of-generation tokens." };
        var logitBias = new Option<string[]>("--logit-bias") { Description = "TOKEN_ID=BIAS added to that token's logit (repeatable)." };
        var logprobs = new Option<int?>("--logprobs") { Description = "Print each token's log-probability and this many alternatives to standard error." };
        var noSpecial = new Option<bool>("--no-bos") { Description = "Do not add the BOS token even if the vocabulary asks for it." };
        var kvType = new Option<string>("--kv-type") { Description = "KV cache element type: f16 or f32.", DefaultValueFactory = _ => "f16" };
        var stats = new Option<bool>("--stats") { Description = "Print prompt and generation speed to standard error at the end." };
        var command = new Command("generate", "Generate text from a prompt, streaming it to standard output.")
        {
            model, prompt, maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, presence, frequency, seed, stop, ignoreEos,
            logitBias, logprobs, noSpecial, kvType, stats,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var p = new SamplingParams
            {
                Temperature = parse.GetValue(temperature),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                MinP = parse.GetValue(minP),
                RepetitionPenalty = parse.GetValue(repeatPenalty),
                RepeatLastN = parse.GetValue(repeatLastN),
                PresencePenalty = parse.GetValue(presence),
                FrequencyPenalty = parse.GetValue(frequency),
                Seed = parse.GetValue(seed),
                StopStrings = parse.GetValue(stop) ?? [],
                IgnoreEos = parse.GetValue(ignoreEos),
                LogitBias = ParseBias(parse.GetValue(logitBias)),
                Logprobs = parse.GetValue(logprobs),
                MaxTokens = parse.GetValue(maxTokens),
            };
            var kv = parse.GetValue(kvType)!.ToLowerInvariant() switch
            {
                "f16" => KvDataType.F16,
                "f32" => KvDataType.F32,
                var other => throw new CliException($"unknown KV type '{other}': use f16 or f32."),
            };
            Run(BundledModel.Resolve(parse.GetValue(model)), parse.GetValue(prompt)!, p, !parse.GetValue(noSpecial), kv, parse.GetValue(stats), output, error, cancellationToken);
            return Task.FromResult(0);
        });
        return command;
    }

    private static Dictionary<int, float>? ParseBias(string[]? items)
    {
        if (items is null || items.Length == 0)
        {
            return null;
        }

        var bias = new Dictionary<int, float>();
        foreach (var item in items)
        {
            var parts = item.Split('=', 2);
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)
                || !float.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                throw new CliException($"--logit-bias '{item}' is not TOKEN_ID=BIAS (for example 42=-100).");
            }

            bias[id] = value;
        }

        return bias;
    }

    private static void Run(string path, string prompt, SamplingParams p, bool addSpecial, KvDataType kvType, bool stats, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var model = CliModel.Guard(() => LanguageModel.Open(path));
        if (p.Validate(model.Config.VocabSize) is { } problem)
        {
            throw new CliException(problem);
        }

        var tokens = model.Tokenizer.Encode(prompt, addSpecial);
        if (tokens.Length == 0)
        {
            throw new CliException("the prompt is empty after tokenization: give some text, or drop --no-bos.");
        }

        if (tokens.Length >= model.Config.ContextLength)
        {
            throw new CliException($"the prompt has {tokens.Length} tokens; the model's context is {model.Config.ContextLength} tokens.");
        }

        var capacity = Math.Min(model.Config.ContextLength, tokens.Length + p.MaxTokens);
        using var generator = Generator.ForTokens(model, capacity, 16, kvType);
        var watch = Stopwatch.StartNew();
        TimeSpan? firstToken = null;
        var count = 0;
        FinishReason? finish = null;
        foreach (var t in generator.Generate(tokens, p, cancellationToken))
        {
            firstToken ??= watch.Elapsed;
            if (t.TokenId >= 0)
            {
                count++;
            }

            output.Write(t.Text);
            output.Flush();
            if (t.Logprob is { } lp)
            {
                var alternatives = t.TopLogprobs is null ? string.Empty
                    : string.Join(" ", t.TopLogprobs.Select(a => $"{Quote(model, a.TokenId)}={a.Logprob.ToString("F3", CultureInfo.InvariantCulture)}"));
                error.WriteLine($"[{t.TokenId} {Quote(model, t.TokenId)} {lp.ToString("F3", CultureInfo.InvariantCulture)}] {alternatives}");
            }

            finish = t.Finish;
        }

        output.WriteLine();
        if (stats)
        {
            var total = watch.Elapsed;
            var decode = total - (firstToken ?? total);
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"prompt: {tokens.Length} tokens in {(firstToken ?? total).TotalSeconds:F2} s ({tokens.Length / Math.Max(1e-9, (firstToken ?? total).TotalSeconds):F1} tokens/s); " +
                $"generated: {count} tokens, {Math.Max(0, count - 1) / Math.Max(1e-9, decode.TotalSeconds):F1} tokens/s; finish: {finish?.ToString().ToLowerInvariant() ?? "none"}"));
        }
    }

    private static string Quote(LanguageModel model, int id)
        => "'" + model.Tokenizer.Decode([id]).Replace("\n", "\\n", StringComparison.Ordinal) + "'";
}
