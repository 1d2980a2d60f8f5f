using System.Runtime.CompilerServices;

namespace Kvasir.Cli.Tests.Bench;

/// <summary>The committed synthetic traces next to this file.</summary>
internal static class BenchData
{
    /// <summary>Eight Mooncake records over 64-token blocks (hash ids 0, 1, 2 and 4, 5 recur), timestamps 0..900 ms.</summary>
    public static string Mooncake => Path.Combine(Dir(), "data", "mooncake-tiny.jsonl");

    /// <summary>Five BurstGPT rows (one with zero response tokens), timestamps 5..6.4 s.</summary>
    public static string BurstGpt => Path.Combine(Dir(), "data", "burstgpt-tiny.csv");

    private static string Dir([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
