using System.Buffers;
using System.Globalization;
using System.Text;

namespace Kvasir.Model.Tokenizers;

/// <summary>Token pieces (the bytes each token stands for) and decoding.</summary>
public abstract partial class Tokenizer
{
    // Indexed by token id: the bytes llama_token_to_piece gives with special = true, and with special = false
    // (control and unknown tokens empty). Entries of the two arrays are shared where they agree.
    private readonly byte[][] _pieces;
    private readonly byte[][] _plainPieces;

    /// <summary>
    /// The UTF-8 bytes a token stands for, as llama.cpp's llama_token_to_piece gives them: ▁ becomes a space
    /// (SentencePiece), &lt;0xNN&gt; becomes that byte, byte-level BPE characters become their bytes.
    /// Control and unknown tokens give their text when <paramref name="renderSpecial"/> is true, else nothing;
    /// user-defined tokens always give their text. A piece may be part of a UTF-8 character.
    /// </summary>
    public ReadOnlySpan<byte> TokenBytes(int id, bool renderSpecial = true) => renderSpecial ? _pieces[CheckId(id)] : _plainPieces[CheckId(id)];

    /// <summary>
    /// Decodes token ids to text: the pieces of the tokens, concatenated, then read as UTF-8 (invalid or
    /// incomplete sequences become U+FFFD). For SentencePiece vocabularies with a space prefix the one space
    /// that encoding adds at the start and after each special token is removed again, so that
    /// Decode(Encode(text)) == text. Unlike llama_detokenize, no "clean-up" of spaces before punctuation is done.
    /// </summary>
    /// <param name="ids">The token ids.</param>
    /// <param name="skipSpecial">Leave out the text of control and unknown tokens (BOS, EOS, &lt;|im_end|&gt;).</param>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false)
    {
        var length = 0;
        foreach (var id in ids)
        {
            length += TokenBytes(id, !skipSpecial).Length;
        }

        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var written = 0;
            var stripSpace = DecodeStripsSpacePrefix;
            foreach (var id in ids)
            {
                var piece = TokenBytes(id, !skipSpecial);
                if ((_attributes[id] & SpecialAttributes) != 0)
                {
                    stripSpace = DecodeStripsSpacePrefix;
                }
                else
                {
                    if (stripSpace && piece.Length > 0 && piece[0] == (byte)' ')
                    {
                        piece = piece[1..];
                    }

                    stripSpace = false;
                }

                piece.CopyTo(rented.AsSpan(written));
                written += piece.Length;
            }

            return Encoding.UTF8.GetString(rented, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private (byte[][] Rendered, byte[][] Plain) BuildPieces(bool byteLevel)
    {
        var rendered = new byte[_texts.Length][];
        var plain = new byte[_texts.Length][];
        for (var id = 0; id < _texts.Length; id++)
        {
            var attributes = _attributes[id];
            var text = _texts[id];
            byte[] piece;
            if ((attributes & SpecialAttributes) != 0)
            {
                piece = Encoding.UTF8.GetBytes(text);
            }
            else if ((attributes & TokenAttributes.Normal) != 0)
            {
                piece = byteLevel ? ByteLevelPiece(text) : Encoding.UTF8.GetBytes(text.Replace('▁', ' '));
            }
            else if ((attributes & TokenAttributes.Byte) != 0)
            {
                piece = [ParseByteToken(text)];
            }
            else
            {
                piece = [];
            }

            rendered[id] = piece;
            plain[id] = (attributes & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0 ? [] : piece;
        }

        return (rendered, plain);
    }

    // llama_decode_text: every character spells a byte; one that does not becomes "[UNK_BYTE_0x<utf8 hex><token>]".
    private static byte[] ByteLevelPiece(string text)
    {
        var bytes = new List<byte>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            var b = ByteLevel.ToByte(rune.Value);
            if (b >= 0)
            {
                bytes.Add((byte)b);
                continue;
            }

            var hex = new StringBuilder("[UNK_BYTE_0x");
            Span<byte> utf8 = stackalloc byte[4];
            var n = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < n; i++)
            {
                hex.Append(utf8[i].ToString("x2", CultureInfo.InvariantCulture));
            }

            hex.Append(text).Append(']');
            bytes.AddRange(Encoding.UTF8.GetBytes(hex.ToString()));
        }

        return [.. bytes];
    }

    // "<0xNN>" → NN, read like strtol(text.substr(3, 2), 16): hex digits until the first that is not.
    private static byte ParseByteToken(string text)
    {
        var value = 0;
        for (var i = 3; i < Math.Min(5, text.Length); i++)
        {
            var digit = HexValue(text[i]);
            if (digit < 0)
            {
                break;
            }

            value = value * 16 + digit;
        }

        return (byte)value;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
