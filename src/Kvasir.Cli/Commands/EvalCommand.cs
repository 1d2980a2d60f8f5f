using System.CommandLine;
using System.Globalization;
using Kvasir.Engine.Evaluation;
using Kvasir.Model;

namespace Kvasir.Cli.Commands;

/// <summary>`kvasir eval passkey --model m.gguf [--n 100] [--ctx 1024] [--seed S] [--filler FILE]`: retrieval accuracy.</summary>
public static class EvalCommand
{
    /// <summary>Builds the command and its subcommands.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("eval", "Evaluate a model on a task.");
        command.Subcommands.Add(CreatePassKey(output, error));
        return command;
    }

    /// <summary>The filler text used when --filler is not given: <c>&lt;model without .gguf&gt;.heldout.txt</c>.</summary>
    public static string DefaultFillerPath(string modelPath) => Path.ChangeExtension(modelPath, null) + ".heldout.txt";

    private static Command CreatePassKey(TextWriter output, TextWriter error)
    {
        var model = new Option<string?>("--model", "-m") { Description = "Path of a GGUF model file (default: the bundled model)." };
        var n = new Option<int>("--n") { Description = "Number of documents.", DefaultValueFactory = _ => 100 };
        var ctx = new Option<int>("--ctx", "-c") { Description = "Document length in tokens (prompt and answer).", DefaultValueFactory = _ => 1024 };
        var seed = new Option<int>("--seed", "-s") { Description = "Seed of the test set.", DefaultValueFactory = _ => PassKeyEval.DefaultSeed };
        var filler = new Option<string>("--filler") { Description = "Text whose lines fill the documents (default: <model>.heldout.txt beside the model)." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Print every document's key and answer." };
        var command = new Command("passkey", "Pass-key retrieval: hide a 5-digit key in a long text, ask for it at the end, count exact greedy answers.")
        {
            model, n, ctx, seed, filler, verbose,
        };
        command.SetAction(parse =>
        {
            var modelPath = BundledModel.Resolve(parse.GetValue(model));
            var fillerPath = parse.GetValue(filler) ?? DefaultFillerPath(modelPath);
            RunPassKey(modelPath, fillerPath, parse.GetValue(n), parse.GetValue(ctx), parse.GetValue(seed), parse.GetValue(verbose), output, error);
            return 0;
        });
        return command;
    }

    /// <summary>Runs the pass-key evaluation and prints the accuracy.</summary>
    public static PassKeyResult RunPassKey(string modelPath, string fillerPath, int n, int ctx, int seed, bool verbose, TextWriter output, TextWriter error)
    {
        if (!File.Exists(fillerPath))
        {
            throw new CliException($"the filler text '{fillerPath}' does not exist: pass --filler FILE (held-out text, one passage per line).");
        }

        if (n < 1 || ctx < 64)
        {
            throw new CliException("--n must be at least 1 and --ctx at least 64.");
        }

        var lines = File.ReadAllLines(fillerPath).Where(l => l.Length > 0).ToArray();
        using var lm = CliModel.Guard(() => LanguageModel.Open(modelPath));
        if (ctx > lm.Config.ContextLength)
        {
            error.WriteLine($"warning: --ctx {ctx} is longer than the model's trained context ({lm.Config.ContextLength}).");
        }

        var inv = CultureInfo.InvariantCulture;
        var result = PassKeyEval.Run(lm, lines, n, ctx, seed, t =>
        {
            if (verbose)
            {
                output.WriteLine(string.Create(inv, $"{t.Index + 1,4} key {t.Key} answer {t.Answer,-8} {(t.Correct ? "ok" : "WRONG")}  ({t.PromptLength} prompt tokens, key at {t.KeyDepth:P0})"));
            }
        });
        output.WriteLine(string.Create(inv, $"pass-key accuracy: {result.Correct}/{result.Trials.Count} = {result.Accuracy:P1} (ctx {ctx}, seed {seed}, full KV cache)"));
        return result;
    }
}
