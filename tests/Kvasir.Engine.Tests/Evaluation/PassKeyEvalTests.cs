using Kvasir.Engine.Evaluation;
using Kvasir.Engine.Tests.Oracle;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.Making;

namespace Kvasir.Engine.Tests.Evaluation;

public class PassKeyEvalTests
{
    private static readonly string[] Filler =
    [
        "In the beginning God created the heaven and the earth.",
        "And the earth was without form, and void; and darkness was upon the face of the deep.",
        "A clash of doctrine is not a disaster -- it is an opportunity.",
        "A dream will always triumph over reality, once it is given the chance. -- Stanislaw Lem",
        "And God said, Let there be light: and there was light.",
    ];

    [Fact]
    public void DocumentsAreSeededAndShapedAsTrained()
    {
        using var model = LanguageModel.Open(TestModels.Make("ppl-F32", TestModels.Tiny, GgmlType.F32, VocabKind.Bpe));
        var tok = model.Tokenizer;
        var builder = new PassKeyDocumentBuilder(tok, Filler);
        var a = builder.Build(new Random(3), 300);
        var b = builder.Build(new Random(3), 300);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.True(a.Tokens.Length <= 300 && a.Tokens.Length > 300 - 40, $"{a.Tokens.Length} tokens");
        Assert.Equal(tok.BosId, a.Tokens[0]);
        Assert.Equal(5, a.Key.Length);

        var text = tok.Decode(a.Tokens.AsSpan(1));
        var prompt = tok.Decode(a.Prompt[1..]);
        Assert.EndsWith(PassKeyDocumentBuilder.Question, prompt, StringComparison.Ordinal);
        Assert.Equal($" {a.Key}.\n", text[prompt.Length..]);
        Assert.StartsWith($"The pass key is {a.Key}. Remember it.\n", tok.Decode(a.Tokens.AsSpan(a.KeyTokenIndex)), StringComparison.Ordinal);
        Assert.Equal(1, CountOf(text, $"The pass key is {a.Key}. Remember it."));

        // Another seed gives another key or depth.
        var c = builder.Build(new Random(4), 300);
        Assert.NotEqual(a.Tokens, c.Tokens);
    }

    [Theory]
    [InlineData(" 48213.\n", "48213")]
    [InlineData("48213", "48213")]
    [InlineData(" 482 13", "482")]
    [InlineData(" the", "")]
    public void FirstDigits(string text, string expected) => Assert.Equal(expected, PassKeyEval.FirstDigits(text));

    [Fact]
    public void RunsAndCountsExactAnswers()
    {
        // A random model does not retrieve; the run must still produce one trial per document, answers seeded.
        using var model = LanguageModel.Open(TestModels.Make("ppl-F32", TestModels.Tiny, GgmlType.F32, VocabKind.Bpe));
        var first = PassKeyEval.Run(model, Filler, 5, 200, 11);
        var again = PassKeyEval.Run(model, Filler, 5, 200, 11);
        Assert.Equal(5, first.Trials.Count);
        Assert.Equal(first.Trials.Select(t => (t.Key, t.Answer)), again.Trials.Select(t => (t.Key, t.Answer)));
        Assert.All(first.Trials, t => Assert.Equal(t.Correct, t.Answer == t.Key));
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
