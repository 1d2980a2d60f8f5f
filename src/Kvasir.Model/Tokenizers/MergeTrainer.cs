namespace Kvasir.Model.Tokenizers;

/// <summary>
/// Counts adjacent symbol pairs over a set of words (each with a frequency) and merges the most frequent pair
/// again and again, the core of BPE training. Deterministic: ties go to the smallest (left, right) pair.
/// Counts are kept up to date incrementally, so each merge only revisits the words that hold its pair.
/// </summary>
internal sealed class MergeTrainer
{
    private readonly List<List<int>> _words;
    private readonly long[] _frequencies;
    private readonly Dictionary<long, long> _pairCounts = new(PairComparer.Instance);
    private readonly Dictionary<long, HashSet<int>> _pairWords = new(PairComparer.Instance);

    // Max-heap by count, then smallest pair; entries go stale when a count changes and are skipped then.
    private readonly PriorityQueue<long, (long NegativeCount, long Pair)> _heap = new();

    public MergeTrainer(IReadOnlyList<int[]> words, IReadOnlyList<long> frequencies)
    {
        _words = new List<List<int>>(words.Count);
        _frequencies = [.. frequencies];
        for (var w = 0; w < words.Count; w++)
        {
            var word = new List<int>(words[w]);
            _words.Add(word);
            for (var i = 0; i + 1 < word.Count; i++)
            {
                var pair = Pack(word[i], word[i + 1]);
                _pairCounts[pair] = _pairCounts.GetValueOrDefault(pair) + _frequencies[w];
                Where(pair).Add(w);
            }
        }

        foreach (var (pair, count) in _pairCounts)
        {
            _heap.Enqueue(pair, (-count, pair));
        }
    }

    /// <summary>Finds the most frequent pair still present, or returns false when no pair is left.</summary>
    public bool TryGetBestPair(out int left, out int right)
    {
        while (_heap.TryPeek(out var pair, out var priority))
        {
            if (_pairCounts.TryGetValue(pair, out var count) && count > 0 && count == -priority.NegativeCount)
            {
                left = (int)(pair >> 32);
                right = (int)pair;
                return true;
            }

            _heap.Dequeue();
        }

        left = right = -1;
        return false;
    }

    /// <summary>Replaces every occurrence of (left, right), scanning each word left to right, by <paramref name="merged"/>.</summary>
    public void Merge(int left, int right, int merged)
    {
        var target = Pack(left, right);
        if (!_pairWords.TryGetValue(target, out var holders))
        {
            return;
        }

        var words = holders.ToArray();
        Array.Sort(words);
        var touched = new HashSet<long>();
        foreach (var w in words)
        {
            var word = _words[w];
            var frequency = _frequencies[w];
            if (!Contains(word, left, right))
            {
                continue;
            }

            for (var i = 0; i + 1 < word.Count; i++)
            {
                var pair = Pack(word[i], word[i + 1]);
                _pairCounts[pair] -= frequency;
                touched.Add(pair);
            }

            var write = 0;
            for (var read = 0; read < word.Count; read++)
            {
                if (read + 1 < word.Count && word[read] == left && word[read + 1] == right)
                {
                    word[write++] = merged;
                    read++;
                }
                else
                {
                    word[write++] = word[read];
                }
            }

            word.RemoveRange(write, word.Count - write);
            for (var i = 0; i + 1 < word.Count; i++)
            {
                var pair = Pack(word[i], word[i + 1]);
                _pairCounts[pair] = _pairCounts.GetValueOrDefault(pair) + frequency;
                Where(pair).Add(w);
                touched.Add(pair);
            }
        }

        foreach (var pair in touched)
        {
            var count = _pairCounts[pair];
            if (count > 0)
            {
                _heap.Enqueue(pair, (-count, pair));
            }
            else
            {
                _pairCounts.Remove(pair);
                _pairWords.Remove(pair);
            }
        }
    }

    private static bool Contains(List<int> word, int left, int right)
    {
        for (var i = 0; i + 1 < word.Count; i++)
        {
            if (word[i] == left && word[i + 1] == right)
            {
                return true;
            }
        }

        return false;
    }

    private HashSet<int> Where(long pair)
    {
        if (!_pairWords.TryGetValue(pair, out var set))
        {
            set = [];
            _pairWords.Add(pair, set);
        }

        return set;
    }

    private static long Pack(int left, int right) => ((long)left << 32) | (uint)right;

    // long.GetHashCode of a packed pair is left ^ right, which collides heavily; mix the bits first.
    private sealed class PairComparer : IEqualityComparer<long>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals(long x, long y) => x == y;

        public int GetHashCode(long pair) => (int)(((ulong)pair * 0x9E3779B97F4A7C15UL) >> 32);
    }
}
