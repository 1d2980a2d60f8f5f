namespace Kvasir.Model.Sampling;

/// <summary>
/// Watches the text of one sequence as it is decoded and decides what may be shown: text that could still
/// turn out to be the start of a stop string is held back, and when a stop string appears the text before it
/// is released and everything from the stop string on is dropped, so a stop string is never emitted.
/// </summary>
/// <remarks>
/// <para>Only the held-back tail is kept: once text is released no stop string can begin in it (it would have
/// been either a full match or part of the held-back suffix), so memory stays at most the longest stop string.</para>
/// <para>When several stop strings match, the one that starts earliest wins (then the first in the list).</para>
/// <code>
/// stop "\nUser:"      fed "Hi\nUs"  → emits "Hi", holds "\nUs"
///                     fed "er: x"   → emits "",   stops at "\nUser:" (the text from it on is dropped)
/// </code>
/// </remarks>
public sealed class StopStringMatcher
{
    private readonly string[] _stopStrings;
    private char[] _buffer;   // held-back text at [_start, _end); what was emitted last call lies before _start
    private int _start;
    private int _end;

    /// <summary>Creates a matcher for one sequence.</summary>
    /// <param name="stopStrings">Non-empty stop strings; may be empty (then all text is released at once).</param>
    /// <exception cref="ArgumentException">A stop string is null or empty.</exception>
    public StopStringMatcher(IReadOnlyList<string> stopStrings)
    {
        ArgumentNullException.ThrowIfNull(stopStrings);
        _stopStrings = new string[stopStrings.Count];
        int maxLength = 0;
        for (int i = 0; i < _stopStrings.Length; i++)
        {
            string s = stopStrings[i];
            if (string.IsNullOrEmpty(s))
                throw new ArgumentException($"Stop string {i} is empty; every stop string needs at least one character.", nameof(stopStrings));
            _stopStrings[i] = s;
            maxLength = Math.Max(maxLength, s.Length);
        }
        _buffer = new char[Math.Max(16, maxLength * 2)];
        StopPosition = -1;
        MatchedStopString = -1;
    }

    /// <summary>True once a stop string matched; later calls to <see cref="Append"/> release nothing.</summary>
    public bool IsStopped { get; private set; }

    /// <summary>Index (into the stop strings) of the one that matched; -1 before a match.</summary>
    public int MatchedStopString { get; private set; }

    /// <summary>Character offset, in the text fed so far, where the matched stop string starts (= length of the final output); -1 before a match.</summary>
    public int StopPosition { get; private set; }

    /// <summary>Characters released so far.</summary>
    public int EmittedLength { get; private set; }

    /// <summary>Characters currently held back because they could begin a stop string.</summary>
    public int HeldBackLength => _end - _start;

    /// <summary>
    /// Feeds the next piece of decoded text and returns the text that is now safe to show, which may be
    /// empty. The span points into the matcher's buffer and is valid until the next call.
    /// </summary>
    /// <param name="delta">The new text (the detokenizer's increment).</param>
    public ReadOnlySpan<char> Append(ReadOnlySpan<char> delta)
    {
        if (IsStopped)
            return [];

        // Move the held-back tail to the front (the previous call's output is no longer referenced), then add delta.
        int held = _end - _start;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, held).CopyTo(_buffer);
            _start = 0;
            _end = held;
        }
        if (_end + delta.Length > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _end + delta.Length));
        delta.CopyTo(_buffer.AsSpan(_end));
        _end += delta.Length;
        ReadOnlySpan<char> pending = _buffer.AsSpan(0, _end);

        // A full match (it can only end inside delta: earlier text held none).
        int matchAt = -1;
        for (int k = 0; k < _stopStrings.Length; k++)
        {
            int at = pending.IndexOf(_stopStrings[k].AsSpan(), StringComparison.Ordinal);
            if (at >= 0 && (matchAt < 0 || at < matchAt))
            {
                matchAt = at;
                MatchedStopString = k;
            }
        }
        if (matchAt >= 0)
        {
            IsStopped = true;
            StopPosition = EmittedLength + matchAt;
            EmittedLength += matchAt;
            _start = _end = matchAt;
            return pending[..matchAt];
        }

        // Hold back the longest suffix that is a proper prefix of some stop string.
        int hold = 0;
        foreach (string stop in _stopStrings)
        {
            for (int length = Math.Min(stop.Length - 1, _end); length > hold; length--)
            {
                if (pending[^length..].SequenceEqual(stop.AsSpan(0, length)))
                {
                    hold = length;
                    break;
                }
            }
        }
        int emit = _end - hold;
        _start = emit;
        EmittedLength += emit;
        return pending[..emit];
    }

    /// <summary>Releases the held-back text at the end of the sequence (when it stopped for another reason); empty after a stop-string match.</summary>
    public ReadOnlySpan<char> Flush()
    {
        if (IsStopped)
            return [];
        ReadOnlySpan<char> rest = _buffer.AsSpan(_start, _end - _start);
        EmittedLength += rest.Length;
        _start = _end;
        return rest;
    }

    /// <summary>Forgets all text and any match, keeping the stop strings and the buffer.</summary>
    public void Reset()
    {
        _start = _end = 0;
        IsStopped = false;
        MatchedStopString = -1;
        StopPosition = -1;
        EmittedLength = 0;
    }
}
