using Kvasir.Engine.ChatClient;
using Kvasir.Kernels.Quant;
using Kvasir.Model;
using Kvasir.Model.ChatTemplates;
using Kvasir.Model.Making;

namespace Kvasir.Server.Tests;

/// <summary>Which template a model's prompts use, and what happens when it does not parse.</summary>
public sealed class ChatPromptBuilderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kvasir-prompt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ModelTemplateOverrideAndFallback()
    {
        using var withTemplate = LanguageModel.Open(TestModels.Tiny);
        var own = ChatPromptBuilder.ForModel(withTemplate);
        Assert.Equal("model", own.TemplateOrigin);
        Assert.Null(own.Warning);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", own.Render([new("user", "hi")]));

        var custom = ChatPromptBuilder.ForModel(withTemplate, "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}");
        Assert.Equal("override", custom.TemplateOrigin);
        Assert.Equal("[user] hi\n", custom.Render([new("user", "hi")]));
        Assert.Throws<ChatTemplateException>(() => ChatPromptBuilder.ForModel(withTemplate, "{% for %}"));

        var broken = Path.Combine(_dir, "broken.gguf");
        ModelMaker.Write(broken, ModelShape.T, GgmlType.F32, VocabKind.Bpe, new MakeModelOptions { ChatTemplate = "{% for m in messages %}{{ m.content }" });
        using var brokenModel = LanguageModel.Open(broken);
        var fallback = ChatPromptBuilder.ForModel(brokenModel);
        Assert.Equal("chatml (fallback)", fallback.TemplateOrigin);
        Assert.Contains("--chat-template", fallback.Warning);
        Assert.Equal(own.BuildPromptTokenIds([new("user", "hi")]), fallback.BuildPromptTokenIds([new("user", "hi")]));
    }

    [Fact]
    public void SpecialTokensInTheRenderedTextBecomeSingleTokens()
    {
        using var model = LanguageModel.Open(TestModels.Tiny);
        var builder = ChatPromptBuilder.ForModel(model);
        var ids = builder.BuildPromptTokenIds([new("user", "hi")]);
        Assert.True(model.Tokenizer.TryGetTokenId("<|im_start|>", out var imStart));
        Assert.Equal(imStart, ids[model.Tokenizer.AddBos ? 1 : 0]);
        Assert.DoesNotContain(model.Tokenizer.EosId, ids);
    }
}
