using System.CommandLine;
using Kvasir.Cli.Commands;

namespace Kvasir.Cli;

/// <summary>The `kvasir` command line.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line with the given writers (tests capture them).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = BuildRoot(output, error);
        var parse = root.Parse(args);
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return parse.Invoke(config);
        }
        catch (CliException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }

    /// <summary>Builds the command tree.</summary>
    public static RootCommand BuildRoot(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Kvasir: a KV-cache-centric LLM inference and serving engine for .NET.");
        root.Subcommands.Add(GenerateCommand.Create(output, error));
        root.Subcommands.Add(InspectCommand.Create(output));
        root.Subcommands.Add(MakeModelCommand.Create(output));
        root.Subcommands.Add(PerplexityCommand.Create(output, error));
        root.Subcommands.Add(EvalCommand.Create(output, error));
        root.Subcommands.Add(ServeCommand.Create(output, error));
        root.Subcommands.Add(BenchCommand.Create(output, error));
        return root;
    }
}
