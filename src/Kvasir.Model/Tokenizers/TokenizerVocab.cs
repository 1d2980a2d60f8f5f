namespace Kvasir.Model.Tokenizers;

/// <summary>
/// A tokenizer vocabulary as GGUF stores it under the tokenizer.ggml.* keys: plain data, no behaviour.
/// <see cref="Tokenizer.Create"/> turns it into a tokenizer; <see cref="ToGgufMetadata"/> gives the keys to
/// write so that llama.cpp loads the same vocabulary.
/// </summary>
/// <remarks>
/// Token ids that a vocabulary lacks are -1 (llama.cpp's LLAMA_TOKEN_NULL) for <see cref="BosId"/> and
/// <see cref="EosId"/>, and null for the optional ones.
/// </remarks>
public sealed partial record TokenizerVocab
{
    /// <summary>The GGUF key prefix of every tokenizer key.</summary>
    public const string KeyPrefix = "tokenizer.ggml.";

    /// <summary>tokenizer.ggml.model: "llama" (SentencePiece-style) or "gpt2" (byte-level BPE).</summary>
    public required string Model { get; init; }

    /// <summary>tokenizer.ggml.pre: the BPE pre-tokenizer ("default", "llama-bpe", "qwen2", ...); ignored by SentencePiece.</summary>
    public string? Pre { get; init; }

    /// <summary>tokenizer.ggml.tokens: the text of every token, indexed by id.</summary>
    public required string[] Tokens { get; init; }

    /// <summary>tokenizer.ggml.scores: one score per token (SentencePiece merge priority), or null.</summary>
    public float[]? Scores { get; init; }

    /// <summary>tokenizer.ggml.token_type: one <see cref="GgmlTokenType"/> number per token, or null (all normal).</summary>
    public int[]? TokenTypes { get; init; }

    /// <summary>tokenizer.ggml.merges: BPE merges as "left right", highest priority first, or null.</summary>
    public string[]? Merges { get; init; }

    /// <summary>Beginning-of-sequence token, or -1 when there is none.</summary>
    public required int BosId { get; init; }

    /// <summary>End-of-sequence token, or -1 when there is none.</summary>
    public required int EosId { get; init; }

    /// <summary>Unknown token, or null.</summary>
    public int? UnkId { get; init; }

    /// <summary>Padding token, or null.</summary>
    public int? PadId { get; init; }

    /// <summary>End-of-turn token (for example &lt;|im_end|&gt; or &lt;|eot_id|&gt;), or null.</summary>
    public int? EotId { get; init; }

    /// <summary>Whether encoding with special tokens prepends <see cref="BosId"/>.</summary>
    public bool AddBos { get; init; }

    /// <summary>Whether encoding with special tokens appends <see cref="EosId"/>.</summary>
    public bool AddEos { get; init; }

    /// <summary>
    /// tokenizer.ggml.add_space_prefix: whether SentencePiece encoding puts a space before the text (and after
    /// every special token). llama.cpp's default is true for "llama" and false for "gpt2".
    /// </summary>
    public bool AddSpacePrefix { get; init; }

    /// <summary>Number of tokens.</summary>
    public int Count => Tokens.Length;

    /// <summary>
    /// The GGUF metadata to write for this vocabulary: keys and values of the types GGUF stores (string, uint,
    /// bool, float[], int[], string[]), in a fixed order. llama.cpp accepts a file that has these keys plus the
    /// architecture's hyper-parameters.
    /// </summary>
    public IEnumerable<KeyValuePair<string, object>> ToGgufMetadata()
    {
        var list = new List<KeyValuePair<string, object>>
        {
            new(KeyPrefix + "model", Model),
        };
        if (Pre is not null)
        {
            list.Add(new(KeyPrefix + "pre", Pre));
        }

        list.Add(new(KeyPrefix + "tokens", Tokens));
        if (Scores is not null)
        {
            list.Add(new(KeyPrefix + "scores", Scores));
        }

        if (TokenTypes is not null)
        {
            list.Add(new(KeyPrefix + "token_type", TokenTypes));
        }

        if (Merges is not null)
        {
            list.Add(new(KeyPrefix + "merges", Merges));
        }

        AddId(list, "bos_token_id", BosId >= 0 ? BosId : null);
        AddId(list, "eos_token_id", EosId >= 0 ? EosId : null);
        AddId(list, "unknown_token_id", UnkId);
        AddId(list, "padding_token_id", PadId);
        AddId(list, "eot_token_id", EotId);
        list.Add(new(KeyPrefix + "add_bos_token", AddBos));
        list.Add(new(KeyPrefix + "add_eos_token", AddEos));
        list.Add(new(KeyPrefix + "add_space_prefix", AddSpacePrefix));
        return list;
    }

    private static void AddId(List<KeyValuePair<string, object>> list, string key, int? id)
    {
        if (id is int value && value >= 0)
        {
            list.Add(new(KeyPrefix + key, (uint)value));
        }
    }
}
