namespace Kvasir.Engine.Tests.Evaluation;

/// <summary>The model committed at models/kvasir-default.gguf and its held-out text, when this checkout has them.</summary>
public static class BundledModel
{
    /// <summary>Full path of the bundled model, or null.</summary>
    public static string? Path => Find("kvasir-default.gguf");

    /// <summary>Full path of the held-out split it was evaluated on, or null.</summary>
    public static string? HeldOutPath => Find("kvasir-default.heldout.txt");

    // The repository root is found above the test binaries, the working directory, or (with an artifacts path
    // outside the tree) this source file.
    private static string? Find(string name, [System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory, System.IO.Path.GetDirectoryName(sourceFile) ?? string.Empty })
        {
            for (var dir = start.Length == 0 ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "Kvasir.slnx")))
                {
                    var path = System.IO.Path.Combine(dir.FullName, "models", name);
                    if (File.Exists(path))
                    {
                        return path;
                    }

                    break;
                }
            }
        }

        return null;
    }
}
