namespace Kvasir.Cli.Bench;

/// <summary>A progress line on stderr, rewritten at each tenth of the run.</summary>
public sealed class ProgressLine
{
    private readonly TextWriter _error;
    private readonly string _label;
    private readonly Lock _lock = new();
    private int _lastTenth = -1;

    /// <summary>Creates the line.</summary>
    public ProgressLine(TextWriter error, string label)
    {
        _error = error;
        _label = label;
    }

    /// <summary>Reports <paramref name="done"/> of <paramref name="total"/> requests finished.</summary>
    public void Report(int done, int total)
    {
        var tenth = total == 0 ? 10 : done * 10 / total;
        lock (_lock)
        {
            if (tenth <= _lastTenth)
            {
                return;
            }

            _lastTenth = tenth;
            _error.Write($"\r{_label} [{new string('#', tenth)}{new string('.', 10 - tenth)}] {done}/{total}");
        }
    }

    /// <summary>Ends the line.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            _error.WriteLine();
        }
    }
}
