namespace Kvasir.Model.Tokenizers;

/// <summary>
/// Token types as GGUF stores them in tokenizer.ggml.token_type (the numbers are ggml's, do not renumber).
/// </summary>
public enum GgmlTokenType
{
    /// <summary>No type given; llama.cpp neither renders nor splits such tokens.</summary>
    Undefined = 0,

    /// <summary>An ordinary piece of text.</summary>
    Normal = 1,

    /// <summary>The unknown token (&lt;unk&gt;).</summary>
    Unknown = 2,

    /// <summary>A control token (BOS, EOS, &lt;|im_start|&gt;): never produced from text unless special parsing is on.</summary>
    Control = 3,

    /// <summary>A user-defined token: always matched as a whole in the input, rendered as its text.</summary>
    UserDefined = 4,

    /// <summary>A reserved token that is never used.</summary>
    Unused = 5,

    /// <summary>A byte-fallback token &lt;0xNN&gt; (SentencePiece).</summary>
    Byte = 6,
}
