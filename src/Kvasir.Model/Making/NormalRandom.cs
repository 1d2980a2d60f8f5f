namespace Kvasir.Model.Making;

/// <summary>
/// A deterministic source of normally distributed floats (SplitMix64 + Box–Muller): the same seed gives
/// the same weights on every machine and .NET version, which System.Random does not promise.
/// </summary>
public struct NormalRandom
{
    private ulong _state;
    private float _spare;
    private bool _hasSpare;

    /// <summary>Creates the generator from a seed.</summary>
    public NormalRandom(ulong seed)
    {
        _state = seed;
        _spare = 0;
        _hasSpare = false;
    }

    /// <summary>A seed derived from a base seed and a name (for example a tensor name), independent of order.</summary>
    public static ulong Derive(ulong seed, string name)
    {
        var h = seed ^ 0xcbf29ce484222325UL;
        foreach (var ch in name)
        {
            h = (h ^ ch) * 0x100000001b3UL;
        }

        return Mix(h);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>A uniform double in (0, 1).</summary>
    public double NextUniform() => ((NextUInt64() >> 11) + 0.5) * (1.0 / (1UL << 53));

    /// <summary>A standard normal sample.</summary>
    public float NextNormal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }

        var u1 = NextUniform();
        var u2 = NextUniform();
        var r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = (float)(r * Math.Sin(2 * Math.PI * u2));
        _hasSpare = true;
        return (float)(r * Math.Cos(2 * Math.PI * u2));
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
