namespace Kvasir.Model.Making;

/// <summary>Which kind of vocabulary a made model gets.</summary>
public enum VocabKind
{
    /// <summary>SentencePiece-style (tokenizer.ggml.model = "llama").</summary>
    Spm,

    /// <summary>Byte-level BPE (tokenizer.ggml.model = "gpt2").</summary>
    Bpe,
}
