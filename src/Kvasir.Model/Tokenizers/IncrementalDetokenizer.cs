using System.Text;

namespace Kvasir.Model.Tokenizers;

/// <summary>
/// Turns a stream of generated token ids into text as it grows, never returning half a UTF-8 character:
/// bytes of an incomplete character (an emoji or CJK character spread over byte tokens) are held until the
/// character is complete. One instance per sequence; not thread-safe.
/// </summary>
/// <remarks>
/// Leading space. A SentencePiece token that starts a word carries its space ("▁Hello" is " Hello"). llama.cpp's
/// server streams generated text as the pieces of the tokens, unchanged (llama_token_to_piece with no lstrip),
/// so a completion of "The capital of France is" reads " Paris" and that is the default here. With
/// stripLeadingSpace the one leading space of the first token is dropped, as llama_detokenize does for a
/// sequence that does not start with BOS on a vocabulary with add_space_prefix; use that for text that
/// stands alone (an assistant's reply decoded by itself).
/// </remarks>
public sealed class IncrementalDetokenizer
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecial;
    private readonly bool _stripLeadingSpace;
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];
    private bool _first = true;

    /// <summary>Creates a detokenizer for one sequence.</summary>
    /// <param name="tokenizer">The tokenizer whose ids will be appended.</param>
    /// <param name="skipSpecial">Leave out the text of control and unknown tokens (EOS, &lt;|im_end|&gt;); user-defined tokens are always shown.</param>
    /// <param name="stripLeadingSpace">Drop one leading space of the first token's piece (see remarks).</param>
    public IncrementalDetokenizer(Tokenizer tokenizer, bool skipSpecial = true, bool stripLeadingSpace = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _skipSpecial = skipSpecial;
        _stripLeadingSpace = stripLeadingSpace;
    }

    /// <summary>Adds a token and returns the text it completes (possibly empty).</summary>
    public string Append(int tokenId)
    {
        var piece = _tokenizer.TokenBytes(tokenId, !_skipSpecial);
        if (_first)
        {
            _first = false;
            if (_stripLeadingSpace && piece.Length > 0 && piece[0] == (byte)' ')
            {
                piece = piece[1..];
            }
        }

        return Convert(piece, flush: false);
    }

    /// <summary>Returns what is held back, with an incomplete character as U+FFFD, and empties the buffer.</summary>
    public string Flush() => Convert([], flush: true);

    /// <summary>Forgets everything, to start a new sequence.</summary>
    public void Reset()
    {
        _decoder.Reset();
        _first = true;
    }

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        if (bytes.IsEmpty && !flush)
        {
            return string.Empty;
        }

        var needed = _decoder.GetCharCount(bytes, flush);
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        var count = _decoder.GetChars(bytes, _chars, flush);
        return count == 0 ? string.Empty : new string(_chars, 0, count);
    }
}
