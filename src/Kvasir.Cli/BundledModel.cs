namespace Kvasir.Cli;

/// <summary>
/// The small English model that ships in the repository (models/kvasir-default.gguf, trained by
/// tools/Kvasir.Train): what `kvasir serve`, `generate`, `perplexity` and `eval` use when no --model is given.
/// The build copies it next to the program.
/// </summary>
internal static class BundledModel
{
    /// <summary>File name of the bundled model.</summary>
    public const string FileName = "kvasir-default.gguf";

    /// <summary>Where the build puts the bundled model.</summary>
    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "models", FileName);

    /// <summary>The model to use: the one given, else the bundled one; a clear error when neither exists.</summary>
    public static string Resolve(string? given)
    {
        if (!string.IsNullOrEmpty(given))
        {
            return given;
        }

        return File.Exists(Path)
            ? Path
            : throw new CliException($"no --model given and no bundled model found at {Path}: pass --model path/to/model.gguf (or make one with 'kvasir make-model').");
    }
}
