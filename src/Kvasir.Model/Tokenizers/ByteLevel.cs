namespace Kvasir.Model.Tokenizers;

/// <summary>
/// GPT-2's reversible mapping between bytes and printable characters, by which byte-level BPE vocabularies
/// spell every byte: printable Latin-1 bytes stand for themselves, the others (control characters, space,
/// DEL, 0x80-0xA0, soft hyphen) map in order to U+0100 onwards, so that space becomes 'Ġ' and newline 'Ċ'.
/// </summary>
internal static class ByteLevel
{
    /// <summary>The character each byte is spelled with (256 entries).</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();

    // Indexed by character (all mapped characters are below U+0144); -1 for characters that spell no byte.
    private static readonly short[] CharToByte = BuildCharToByte();

    /// <summary>The byte a character spells, or -1 when it spells none.</summary>
    public static int ToByte(int codepoint) => (uint)codepoint < (uint)CharToByte.Length ? CharToByte[codepoint] : -1;

    private static bool StandsForItself(int b) => b is (>= 0x21 and <= 0x7E) or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            map[b] = StandsForItself(b) ? (char)b : (char)next++;
        }

        return map;
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[0x144];
        Array.Fill(map, (short)-1);
        var byteToChar = BuildByteToChar();
        for (var b = 0; b < 256; b++)
        {
            map[byteToChar[b]] = (short)b;
        }

        return map;
    }
}
