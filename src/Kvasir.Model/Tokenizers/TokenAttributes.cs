namespace Kvasir.Model.Tokenizers;

/// <summary>
/// What llama.cpp makes of a token's type (its llama_token_attr bits): the type from the vocabulary, plus
/// the control bit it adds to tokens it recognises by text (end-of-turn, fill-in-the-middle).
/// </summary>
[Flags]
public enum TokenAttributes
{
    /// <summary>No type.</summary>
    None = 0,

    /// <summary>The unknown token.</summary>
    Unknown = 1 << 0,

    /// <summary>A reserved, unused token.</summary>
    Unused = 1 << 1,

    /// <summary>An ordinary piece of text.</summary>
    Normal = 1 << 2,

    /// <summary>A control token.</summary>
    Control = 1 << 3,

    /// <summary>A user-defined token.</summary>
    UserDefined = 1 << 4,

    /// <summary>A byte-fallback token.</summary>
    Byte = 1 << 5,
}
