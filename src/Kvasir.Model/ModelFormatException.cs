namespace Kvasir.Model;

/// <summary>
/// The one exception a damaged, truncated or unsupported model file raises. Its message names the file,
/// the problem, where in the file it is (byte offset, tensor or key) and what to try.
/// </summary>
public sealed class ModelFormatException : Exception
{
    /// <summary>Creates the exception; the message is composed from the parts.</summary>
    /// <param name="path">The model file.</param>
    /// <param name="problem">What is wrong, in one sentence.</param>
    /// <param name="where">Where it is: "byte offset 1234", "tensor 'blk.0.attn_q.weight'", "key 'llama.block_count'"; null when the whole file.</param>
    /// <param name="hint">What the user can do about it.</param>
    public ModelFormatException(string path, string problem, string? where, string hint)
        : base(Compose(path, problem, where, hint))
    {
        FilePath = path;
        Problem = problem;
        Where = where;
        Hint = hint;
    }

    /// <summary>The model file the problem is in.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong.</summary>
    public string Problem { get; }

    /// <summary>Where in the file, or null.</summary>
    public string? Where { get; }

    /// <summary>What to try.</summary>
    public string Hint { get; }

    private static string Compose(string path, string problem, string? where, string hint)
        => where is null ? $"{path}: {problem} {hint}" : $"{path}: {problem} (at {where}). {hint}";
}
