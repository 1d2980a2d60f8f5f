using System.Text;

namespace Kvasir.Cli.Bench;

/// <summary>
/// Deterministic prompt text: words drawn from a fixed list of common English words, so that a prompt of n words
/// tokenizes to about n × <see cref="TokensPerWord"/> tokens on any vocabulary (calibrated with the server's
/// /tokenize when it has one).
/// </summary>
public sealed class WordText
{
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are", "as", "with",
        "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by", "word", "but", "not", "what", "all",
        "were", "we", "when", "your", "can", "said", "there", "use", "an", "each", "which", "she", "do", "how", "their", "if",
        "will", "up", "other", "about", "out", "many", "then", "them", "these", "so", "some", "her", "would", "make", "like", "him",
        "into", "time", "has", "look", "two", "more", "write", "go", "see", "number", "no", "way", "could", "people", "my", "than",
        "first", "water", "been", "call", "who", "oil", "its", "now", "find", "long", "down", "day", "did", "get", "come", "made",
        "may", "part", "over", "new", "sound", "take", "only", "little", "work", "know", "place", "year", "live", "me", "back", "give",
        "most", "very", "after", "thing", "our", "just", "name", "good", "sentence", "man", "think", "say", "great", "where", "help", "through",
        "much", "before", "line", "right", "too", "mean", "old", "any", "same", "tell", "boy", "follow", "came", "want", "show", "also",
        "around", "form", "three", "small", "set", "put", "end", "does", "another", "well", "large", "must", "big", "even", "such", "because",
        "turn", "here", "why", "ask", "went", "men", "read", "need", "land", "different", "home", "us", "move", "try", "kind", "hand",
        "picture", "again", "change", "off", "play", "spell", "air", "away", "animal", "house", "point", "page", "letter", "mother", "answer", "found",
        "study", "still", "learn", "should", "world", "high", "every", "near", "add", "food", "between", "own", "below", "country", "plant", "last",
        "school", "father", "keep", "tree", "never", "start", "city", "earth", "eye", "light", "thought", "head", "under", "story", "saw", "left",
        "few", "while", "along", "might", "close", "something", "seem", "next", "hard", "open", "example", "begin", "life", "always", "those", "both",
        "paper", "together", "got", "group", "often", "run", "important", "until", "children", "side", "feet", "car", "mile", "night", "walk", "white",
    ];

    /// <summary>Creates a text source.</summary>
    /// <param name="tokensPerWord">Average tokens one word (with its leading space) becomes on the target vocabulary; must be positive.</param>
    public WordText(double tokensPerWord = 1.0)
    {
        if (!(tokensPerWord > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(tokensPerWord), tokensPerWord, "tokens per word must be positive.");
        }

        TokensPerWord = tokensPerWord;
    }

    /// <summary>Average tokens per word on the target vocabulary.</summary>
    public double TokensPerWord { get; }

    /// <summary>How many words make about <paramref name="tokens"/> tokens (at least one).</summary>
    public int WordsFor(int tokens) => Math.Max(1, (int)Math.Round(tokens / TokensPerWord));

    /// <summary>Text of about <paramref name="tokens"/> tokens drawn from <paramref name="random"/>.</summary>
    public string Tokens(Random random, int tokens) => WordsText(random, WordsFor(tokens));

    /// <summary>Exactly <paramref name="count"/> words drawn from <paramref name="random"/>, separated by spaces.</summary>
    public static string WordsText(Random random, int count)
    {
        ArgumentNullException.ThrowIfNull(random);
        var sb = new StringBuilder(count * 6);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }

            sb.Append(Words[random.Next(Words.Length)]);
        }

        return sb.ToString();
    }

    /// <summary>A sample of <paramref name="count"/> words (fixed seed) for calibrating against a tokenizer.</summary>
    public static string CalibrationSample(int count) => WordsText(new Random(12345), count);
}
