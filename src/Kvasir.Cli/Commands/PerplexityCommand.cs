using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Kvasir.Engine.Evaluation;
using Kvasir.Model;

namespace Kvasir.Cli.Commands;

/// <summary>
/// `kvasir perplexity --model m.gguf --file text.txt [--ctx N]`: perplexity computed as llama.cpp's perplexity
/// tool does (windows of ctx tokens, BOS first, the second half scored), with the running value per window.
/// </summary>
public static class PerplexityCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string?>("--model", "-m") { Description = "Path of a GGUF model file (default: the bundled model)." };
        var file = new Option<string>("--file", "-f") { Description = "UTF-8 text file to score.", Required = true };
        var ctx = new Option<int>("--ctx", "-c") { Description = "Window size in tokens (default: 512, or the model's context if smaller)." };
        var chunks = new Option<int>("--chunks") { Description = "Score at most this many windows (default: all)." };
        var command = new Command("perplexity", "Perplexity of a model on a text file, computed like llama.cpp's perplexity tool.")
        {
            model, file, ctx, chunks,
        };
        command.SetAction(parse =>
        {
            Run(BundledModel.Resolve(parse.GetValue(model)), parse.GetValue(file)!, parse.GetValue(ctx), parse.GetValue(chunks), output, error);
            return 0;
        });
        return command;
    }

    /// <summary>Scores the file and prints the running and final perplexity.</summary>
    public static PerplexityResult Run(string modelPath, string textPath, int ctx, int chunks, TextWriter output, TextWriter error)
    {
        if (!File.Exists(textPath))
        {
            throw new CliException($"the text file '{textPath}' does not exist.");
        }

        using var lm = CliModel.Guard(() => LanguageModel.Open(modelPath));
        if (ctx <= 0)
        {
            ctx = Math.Min(512, lm.Config.ContextLength);
        }

        if (ctx > lm.Config.ContextLength)
        {
            error.WriteLine($"warning: --ctx {ctx} is longer than the model's trained context ({lm.Config.ContextLength}).");
        }

        var tokens = lm.Tokenizer.Encode(File.ReadAllText(textPath));
        if (tokens.Length < ctx)
        {
            throw new CliException($"the text has {tokens.Length} tokens; one window needs {ctx}. Use a longer text or a smaller --ctx.");
        }

        var windows = Math.Min(chunks > 0 ? chunks : int.MaxValue, tokens.Length / ctx);
        var inv = CultureInfo.InvariantCulture;
        error.WriteLine($"perplexity: {tokens.Length} tokens, {windows} windows of {ctx}, scoring the second half of each");
        var sw = Stopwatch.StartNew();
        var result = Perplexity.Compute(lm, tokens, ctx, w => output.Write(string.Create(inv, $"[{w.Index + 1}]{w.RunningPerplexity:F4},")), windows);
        output.WriteLine();
        output.WriteLine(string.Create(inv, $"Final estimate: PPL = {result.Value:F4} over {result.ScoredTokens} tokens ({windows} windows of {ctx})"));
        error.WriteLine(string.Create(inv, $"perplexity: {windows * ctx / sw.Elapsed.TotalSeconds:F0} tokens/s"));
        return result;
    }
}
