using Kvasir.Model.Tokenizers;

namespace Kvasir.Engine.Evaluation;

/// <summary>
/// Builds <see cref="PassKeyDocument"/>s of a given length from filler lines, the same way for training (the
/// bundled model's trainer, tools/Kvasir.Train) and for evaluation (kvasir eval passkey): each piece is encoded on its own
/// and the pieces are concatenated, so the prompt of a document is exactly what training saw before the answer.
/// </summary>
public sealed class PassKeyDocumentBuilder
{
    /// <summary>The line that hides the key; {0} is the key.</summary>
    public const string KeyLine = "The pass key is {0}. Remember it.\n";

    /// <summary>The question that ends the prompt.</summary>
    public const string Question = "What is the pass key? The pass key is";

    /// <summary>The answer that follows the prompt; {0} is the key.</summary>
    public const string Answer = " {0}.\n";

    private readonly Tokenizer _tokenizer;
    private readonly int[][] _lines;
    private readonly int[] _question;

    /// <summary>Creates a builder over filler lines (each encoded once, with a trailing newline).</summary>
    public PassKeyDocumentBuilder(Tokenizer tokenizer, IReadOnlyList<string> fillerLines)
        : this(tokenizer, EncodeLines(tokenizer, fillerLines))
    {
    }

    /// <summary>Creates a builder over filler lines already encoded (each ending with a newline).</summary>
    public PassKeyDocumentBuilder(Tokenizer tokenizer, int[][] encodedLines)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(encodedLines);
        if (encodedLines.Length == 0)
        {
            throw new ArgumentException("The filler text has no lines.", nameof(encodedLines));
        }

        _tokenizer = tokenizer;
        _lines = encodedLines;
        _question = tokenizer.Encode(Question, addSpecial: false);
    }

    /// <summary>Encodes each line followed by a newline, without BOS.</summary>
    public static int[][] EncodeLines(Tokenizer tokenizer, IReadOnlyList<string> lines)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(lines);
        var encoded = new int[lines.Count][];
        Parallel.For(0, lines.Count, i => encoded[i] = tokenizer.Encode(lines[i] + "\n", addSpecial: false));
        return encoded;
    }

    /// <summary>
    /// Builds a document of at most <paramref name="length"/> tokens (answer included; whole filler lines, so
    /// usually a few tokens short). The key, the depth of the key line (uniform over the filler) and the
    /// filler (consecutive lines from a random start) are drawn from <paramref name="rng"/>.
    /// </summary>
    public PassKeyDocument Build(Random rng, int length)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var key = rng.Next(10000, 100000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var depth = rng.NextDouble();
        var line = rng.Next(_lines.Length);
        var keyLine = _tokenizer.Encode(string.Format(System.Globalization.CultureInfo.InvariantCulture, KeyLine, key), addSpecial: false);
        var answer = _tokenizer.Encode(string.Format(System.Globalization.CultureInfo.InvariantCulture, Answer, key), addSpecial: false);
        var fixedCount = 1 + keyLine.Length + _question.Length + answer.Length;
        if (length < fixedCount + 8)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"A pass-key document needs at least {fixedCount + 8} tokens.");
        }

        var fillerBudget = length - fixedCount;
        var before = (int)(depth * fillerBudget);
        var tokens = new List<int>(length) { _tokenizer.BosId };
        var filler = 0;
        filler += AddLines(tokens, ref line, before);
        var keyIndex = tokens.Count;
        tokens.AddRange(keyLine);
        AddLines(tokens, ref line, fillerBudget - filler);
        tokens.AddRange(_question);
        var promptLength = tokens.Count;
        tokens.AddRange(answer);
        return new PassKeyDocument([.. tokens], promptLength, answer.Length, key, keyIndex);
    }

    // Appends whole consecutive lines (skipping any that cannot fit) while they fit in the budget; returns the tokens added.
    private int AddLines(List<int> tokens, ref int line, int budget)
    {
        var added = 0;
        for (var tries = 0; tries < _lines.Length; tries++)
        {
            var next = _lines[line];
            if (added + next.Length > budget)
            {
                // Skip a line too long for what is left, unless little is left.
                if (budget - added < 24)
                {
                    break;
                }

                line = (line + 1) % _lines.Length;
                continue;
            }

            tokens.AddRange(next);
            added += next.Length;
            line = (line + 1) % _lines.Length;
        }

        return added;
    }
}
