namespace Kvasir.Cli.Tests;

public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kvasir-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void MakeModelInspectAndGenerate()
    {
        var path = Path.Combine(_dir, "tiny.gguf");
        var made = Run("make-model", "--shape", "T", "--arch", "qwen2", "--type", "Q8_0", "--vocab", "bpe", "-o", path);
        Assert.True(made.Code == 0, made.Err);
        Assert.Contains("wrote", made.Out);

        var inspected = Run("inspect", path);
        Assert.True(inspected.Code == 0, inspected.Err);
        Assert.Contains("architecture:    qwen2", inspected.Out);
        Assert.Contains("Q8_0", inspected.Out);
        Assert.Contains("byte-level BPE", inspected.Out);
        Assert.Contains("blk.0.attn_q.bias", inspected.Out);
        Assert.Contains("chat template:", inspected.Out);

        var generated = Run("generate", "--model", path, "--prompt", "Hello there", "--max-tokens", "12", "--seed", "3", "--stats");
        Assert.True(generated.Code == 0, generated.Err);
        Assert.Contains("tokens/s", generated.Err);
        var again = Run("generate", "--model", path, "--prompt", "Hello there", "--max-tokens", "12", "--seed", "3");
        Assert.Equal(generated.Out, again.Out);
    }

    [Fact]
    public void GreedyGenerationIsRepeatableAndHonoursMaxTokens()
    {
        var path = Path.Combine(_dir, "spm.gguf");
        Assert.Equal(0, Run("make-model", "--shape", "T", "--vocab", "spm", "-o", path).Code);
        var a = Run("generate", "-m", path, "-p", "The sea", "-n", "8", "--temperature", "0", "--stats", "--ignore-eos");
        var b = Run("generate", "-m", path, "-p", "The sea", "-n", "8", "--temperature", "0", "--ignore-eos");
        Assert.True(a.Code == 0, a.Err);
        Assert.Equal(a.Out, b.Out);
        Assert.Contains("generated: 8 tokens", a.Err);
        Assert.Contains("finish: length", a.Err);
    }

    [Fact]
    public void BadModelFileGivesOneClearLine()
    {
        var path = Path.Combine(_dir, "bad.gguf");
        File.WriteAllText(path, "this is not a model, just some text that is long enough");
        var r = Run("inspect", path);
        Assert.Equal(2, r.Code);
        Assert.Contains("bad.gguf", r.Err);
        Assert.Contains("magic", r.Err);

        var missing = Run("generate", "-m", Path.Combine(_dir, "missing.gguf"), "-p", "x");
        Assert.Equal(2, missing.Code);
        Assert.Contains("does not exist", missing.Err);
    }

    [Fact]
    public void BadFlagsAreRejected()
    {
        var path = Path.Combine(_dir, "t.gguf");
        Assert.Equal(0, Run("make-model", "-o", path).Code);
        var r = Run("generate", "-m", path, "-p", "x", "--top-p", "1.5");
        Assert.Equal(2, r.Code);
        Assert.Contains("top_p", r.Err, StringComparison.OrdinalIgnoreCase);
        Assert.NotEqual(0, Run("make-model", "-o", path, "--type", "Q7").Code);
        Assert.NotEqual(0, Run("generate", "-m", path, "-p", "x", "--logit-bias", "oops").Code);
    }

    [Fact]
    public void EvalPasskeyRunsOnTheBundledModelWithNoFlags()
    {
        if (!File.Exists(BundledModel.Path))
        {
            return; // No bundled model in this checkout.
        }

        // The model and its held-out filler text both travel with the program.
        var r = Run("eval", "passkey", "--n", "2");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("pass-key accuracy:", r.Out);
    }
}
