using System.Text;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Model.Tests.Tokenizers;

/// <summary>Vocabularies and texts shared by the tokenizer tests.</summary>
internal static class TokenizerTestData
{
    /// <summary>Extra training text so that the test vocabularies have merges beyond English.</summary>
    public const string Multilingual = """
        Le café est fermé le dimanche, mais la boulangerie est ouverte. Où est la gare ? C'est très naïf.
        Die Straße ist nass, und der Bäcker öffnet um sechs Uhr. Ångström, Øresund, blåbær og rødgrøt.
        日本語の文章を書くのは楽しいです。東京は大きな都市です。中文也很有意思，我们一起学习中文。
        Привет, мир! Как дела? Спасибо, хорошо. مرحبا بالعالم. नमस्ते दुनिया। 안녕하세요 세계.
        Emoji: 👍🏽 🇳🇴 👨‍👩‍👧‍👦 ❤️ 🚀🚀 — “quotes” and ‘single quotes’… €100, £50, ¥1000.
        public static int Add(int a, int b) { return a + b; }
        for (var i = 0; i < 10; i++) { Console.WriteLine($"i = {i}"); }
        """;

    public static string TrainingText => VocabBuilder.DefaultCorpus + "\n" + Multilingual;

    private static readonly Lazy<TokenizerVocab> SpmVocab = new(() => VocabBuilder.TrainSpm(TrainingText, 1200));
    private static readonly Dictionary<string, Lazy<TokenizerVocab>> BpeVocabs = new()
    {
        ["default"] = new(() => VocabBuilder.TrainBpe(TrainingText, 1200, "default")),
        ["llama-bpe"] = new(() => VocabBuilder.TrainBpe(TrainingText, 1200, "llama-bpe")),
        ["qwen2"] = new(() => VocabBuilder.TrainBpe(TrainingText, 1200, "qwen2")),
        ["gpt-2"] = new(() => VocabBuilder.TrainBpe(TrainingText, 1200, "gpt-2")),
        ["smollm"] = new(() => VocabBuilder.TrainBpe(TrainingText, 1200, "smollm")),
    };

    // Variants that exercise other flags and token types: no space prefix, EOS added, user-defined tokens,
    // and end-of-turn texts typed as normal tokens (llama.cpp makes them control tokens).
    private static readonly Lazy<TokenizerVocab> SpmVariantVocab = new(() =>
        WithExtraTokens(SpmVocab.Value with { AddSpacePrefix = false, AddEos = true }, ("<tool_call>", GgmlTokenType.UserDefined), ("<|im_start|>", GgmlTokenType.Control), ("<|im_end|>", GgmlTokenType.Normal)));

    private static readonly Lazy<TokenizerVocab> BpeVariantVocab = new(() =>
        WithExtraTokens(BpeVocabs["qwen2"].Value with { AddEos = true, AddBos = false }, ("<tool_call>", GgmlTokenType.UserDefined), ("</tool_call>", GgmlTokenType.UserDefined), ("<|endoftext|>", GgmlTokenType.Normal), ("<|fim_pad|>", GgmlTokenType.Normal)));

    public static TokenizerVocab Spm => SpmVocab.Value;

    public static TokenizerVocab Vocab(string kind) => kind switch
    {
        "spm" => SpmVocab.Value,
        "spm-variant" => SpmVariantVocab.Value,
        "bpe-variant" => BpeVariantVocab.Value,
        _ => BpeVocabs[kind].Value,
    };

    private static TokenizerVocab WithExtraTokens(TokenizerVocab vocab, params (string Text, GgmlTokenType Type)[] extra) => vocab with
    {
        Tokens = [.. vocab.Tokens, .. extra.Select(e => e.Text)],
        TokenTypes = [.. vocab.TokenTypes!, .. extra.Select(e => (int)e.Type)],
        Scores = vocab.Scores is null ? null : [.. vocab.Scores, .. extra.Select(_ => 0f)],
    };

    public static TokenizerVocab Bpe(string pre) => BpeVocabs[pre].Value;

    public const string CSharpSnippet = """
        namespace Demo;

        public sealed class Counter
        {
            private int _count;

            public int Next()
            {
                if (_count >= 10) { return -1; }
                return ++_count; // wraps at 10
            }
        }
        """;

    public const string PythonSnippet = "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\nprint(fib(10))  # 55\n";

    /// <summary>The texts every oracle comparison runs over.</summary>
    public static readonly string[] Corpus =
    [
        "The quick brown fox jumps over the lazy dog.",
        "Hello world! This is a test of the tokenizer, with punctuation: commas, periods; and more...",
        "café, naïve, Ångström, Øresund, crème brûlée",
        "日本語の文章",
        "中文",
        "日本語の文章と中文のテキスト。",
        "👍🏽",
        "🇳🇴",
        "👨‍👩‍👧‍👦",
        "I ❤️ emoji 🚀🚀🚀 and 👍🏽 and 🇳🇴🇸🇪",
        "a  b   c\n\n\n  d\t\te",
        "1234567 3.14159 1,000,000",
        "12 123 1234 12345 123456 0.5 -7 +8 1e10 2024-05-17",
        CSharpSnippet,
        PythonSnippet,
        "  leading spaces",
        "trailing spaces  ",
        "  both  ",
        string.Empty,
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        " \n ",
        "\r\n",
        "line one\r\nline two\r\n",
        "don't I'M we'RE you'll they've she'd it's 'tis 'quoted'",
        "DON'T STOP THE 'S 'T 'RE 'VE 'M 'LL 'D",
        "non\u00A0breaking and\u3000ideographic and\u2009thin spaces",
        "e\u0301 combining, नमस्ते दुनिया, ไทย",
        "٣٤٥ ²³ ½ Ⅻ",
        "$100 + 5 = <tag> ^ ~ |pipes| `tick` #hash @at",
        "Hello!!! ... ??? !?! ,,, ;;",
        "→ arrows ← and — dashes – and “quotes” ‘single’…",
        "Привет, мир! Как дела?",
        "مرحبا بالعالم",
        "안녕하세요 세계",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "the the the the the",
        "x",
        ".",
        "'",
        "'s",
        " 's",
        "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
        "<s>Hello</s> world <unk> and <|begin_of_text|>again<|end_of_text|>",
        "text<|im_end|>",
        "<|im_start|><|im_end|>",
        "<0x41> is not a byte here",
        "<tool_call>{\"name\": \"f\"}</tool_call> and <|endoftext|><|fim_pad|>",
        " <tool_call> x",
        "\u0000 nul \u0007 bell \u001B esc \u007F del",
        "🤖" + new string(' ', 5) + "🤖",
    ];

    /// <summary>Random strings from a pool of awkward pieces, with a fixed seed.</summary>
    public static IEnumerable<string> RandomTexts(int count, int seed)
    {
        string[] pool =
        [
            " ", "  ", "\n", "\t", "\r\n", "a", "The", " the", "ing", "x", "Z", "'s", "'", "\"", "1", "23", "456", "7890", ".", ",", "!", "?",
            "-", "_", "(", ")", "{", "}", "<", ">", "$", "+", "=", "|", "`", "é", "ß", "Å", "ø", "日", "本", "語", "中", "文", "の", "👍", "🏽",
            "🇳", "🇴", "\u200D", "👨", "❤", "\uFE0F", "Привет", "مرحبا", "नम", "\u0301", "٣", "²", "\u00A0", "\u3000", "<|im_start|>",
            "<|im_end|>", "<s>", "</s>", "<unk>", "<|end_of_text|>", "▁", "Ġ", "\u0000", "\u007F", "<tool_call>", "</tool_call>",
            "<|endoftext|>", "<|fim_pad|>", "<tool", "call>", "<<", ">>",
        ];
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var builder = new StringBuilder();
            var parts = random.Next(1, 24);
            for (var j = 0; j < parts; j++)
            {
                builder.Append(pool[random.Next(pool.Length)]);
            }

            yield return builder.ToString();
        }
    }

    public static string Show(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
}
