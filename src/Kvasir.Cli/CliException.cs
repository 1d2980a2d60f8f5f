namespace Kvasir.Cli;

/// <summary>A user error on the command line: printed as one clear line, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
