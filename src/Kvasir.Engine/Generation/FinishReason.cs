namespace Kvasir.Engine.Generation;

/// <summary>Why a sequence stopped (OpenAI's finish_reason values).</summary>
public enum FinishReason
{
    /// <summary>An end-of-generation token, a stop token or a stop string.</summary>
    Stop,

    /// <summary>max_tokens or the context length was reached.</summary>
    Length,

    /// <summary>The caller cancelled.</summary>
    Abort,
}
