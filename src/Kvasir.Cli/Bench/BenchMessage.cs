namespace Kvasir.Cli.Bench;

/// <summary>One chat message of a benchmark prompt.</summary>
/// <param name="Role">`system`, `user` or `assistant`.</param>
/// <param name="Content">The text.</param>
public sealed record BenchMessage(string Role, string Content);
