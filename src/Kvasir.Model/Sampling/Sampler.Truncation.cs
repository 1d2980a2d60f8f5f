using System.Diagnostics;

namespace Kvasir.Model.Sampling;

// Temperature, top-k, top-p, min-p and the draw. Candidates are token ids in _candidates[..n]; their values
// live in _work by id. "Better" is the strict total order (value descending, id ascending), so selections and
// sorts are deterministic and ties at a cut-off keep the lower ids.
public sealed partial class Sampler
{
    private const int InsertionSortThreshold = 16;

    private int SampleRandom()
    {
        Span<float> work = _work;
        Span<int> candidates = _candidates;

        // Temperature; -∞ (and NaN, made -∞ earlier) never become candidates.
        float invTemperature = 1f / _params.Temperature;
        int n = 0;
        for (int i = 0; i < work.Length; i++)
        {
            float v = work[i];
            if (float.IsNegativeInfinity(v))
                continue;
            work[i] = v * invTemperature;
            candidates[n++] = i;
        }
        if (n == 0)
            return SampleGreedy();

        // Top-k: keep the k best, sorted.
        bool sorted = false;
        int topK = _params.TopK;
        if (topK > 0 && topK < n)
        {
            SelectTop(candidates[..n], topK);
            n = topK;
            SortCandidates(candidates[..n]);
            sorted = true;
        }

        // Softmax numerators: work[id] = exp(logit - max), so the most likely candidate has exactly 1.
        float max = float.NegativeInfinity;
        if (sorted)
        {
            max = work[candidates[0]];
        }
        else
        {
            for (int i = 0; i < n; i++)
                max = Math.Max(max, work[candidates[i]]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            int id = candidates[i];
            float p = MathF.Exp(work[id] - max);
            work[id] = p;
            sum += p;
        }

        // Top-p: the smallest prefix (most likely first) whose mass reaches TopP of the total.
        if (_params.TopP < 1f)
            n = ApplyTopP(candidates, n, sum, sorted);

        // Min-p: drop candidates below MinP times the largest (which is 1 here).
        float minP = _params.MinP;
        if (minP > 0f)
        {
            int kept = 0;
            for (int i = 0; i < n; i++)
            {
                int id = candidates[i];
                if (work[id] >= minP)
                    candidates[kept++] = id;
            }
            Debug.Assert(kept > 0, "The most likely candidate (probability ratio 1) always survives min-p.");
            n = kept;
        }

        _numKept = n;
        return Draw(candidates[..n]);
    }

    private int ApplyTopP(Span<int> candidates, int n, double sum, bool sorted)
    {
        ReadOnlySpan<float> work = _work;
        double target = _params.TopP * sum;
        if (sorted)
        {
            double cumulative = 0;
            for (int i = 0; i < n; i++)
            {
                cumulative += work[candidates[i]];
                if (cumulative >= target)
                    return i + 1;
            }
            return n; // rounding left the total a hair under the target: keep everything
        }

        // Weighted quickselect: the smallest k whose k best candidates reach the target mass, in expected
        // O(n) without sorting (a flat distribution over a large vocabulary has a nucleus of thousands).
        // Invariant: candidates[..lo] are kept, with mass `kept`; the answer lies in [lo, hi].
        int lo = 0;
        int hi = n - 1;
        double kept = 0;
        while (lo < hi)
        {
            int p = Partition(candidates, lo, hi);
            double better = 0;
            for (int i = lo; i < p; i++)
                better += work[candidates[i]];
            if (kept + better >= target)
            {
                hi = p - 1;
                continue;
            }
            kept += better + work[candidates[p]];
            if (kept >= target)
                return p + 1;
            lo = p + 1;
        }
        return Math.Min(lo + 1, n);
    }

    private int Draw(ReadOnlySpan<int> candidates)
    {
        ReadOnlySpan<float> work = _work;
        double total = 0;
        foreach (int id in candidates)
            total += work[id];
        double r = _rng.NextDouble() * total;
        double cumulative = 0;
        foreach (int id in candidates)
        {
            cumulative += work[id];
            if (r < cumulative)
                return id;
        }
        return candidates[^1];
    }

    /// <summary>True when token <paramref name="a"/> ranks before token <paramref name="b"/>: larger value, then lower id.</summary>
    private bool Better(int a, int b)
    {
        float va = _work[a];
        float vb = _work[b];
        return va > vb || (va == vb && a < b);
    }

    /// <summary>Quickselect: rearranges <paramref name="ids"/> so that its <paramref name="k"/> best are first (in no order).</summary>
    internal void SelectTop(Span<int> ids, int k)
    {
        Debug.Assert(k >= 1 && k <= ids.Length);
        int lo = 0;
        int hi = ids.Length - 1;
        while (lo < hi)
        {
            int p = Partition(ids, lo, hi);
            if (p == k - 1)
                return;
            if (p < k - 1)
                lo = p + 1;
            else
                hi = p - 1;
        }
    }

    /// <summary>Sorts <paramref name="ids"/> best first (quicksort, insertion sort for short ranges).</summary>
    internal void SortCandidates(Span<int> ids)
    {
        int lo = 0;
        int hi = ids.Length - 1;
        while (hi - lo >= InsertionSortThreshold)
        {
            int p = Partition(ids, lo, hi);
            // Recurse into the smaller side, loop on the larger: stack depth stays O(log n).
            if (p - lo < hi - p)
            {
                SortCandidates(ids[lo..p]);
                lo = p + 1;
            }
            else
            {
                SortCandidates(ids[(p + 1)..(hi + 1)]);
                hi = p - 1;
            }
        }
        for (int i = lo + 1; i <= hi; i++)
        {
            int id = ids[i];
            int j = i - 1;
            while (j >= lo && Better(id, ids[j]))
            {
                ids[j + 1] = ids[j];
                j--;
            }
            ids[j + 1] = id;
        }
    }

    /// <summary>Lomuto partition of ids[lo..hi] around a median-of-three pivot; returns the pivot's final index.</summary>
    private int Partition(Span<int> ids, int lo, int hi)
    {
        int mid = lo + ((hi - lo) / 2);
        if (Better(ids[mid], ids[lo]))
            (ids[mid], ids[lo]) = (ids[lo], ids[mid]);
        if (Better(ids[hi], ids[lo]))
            (ids[hi], ids[lo]) = (ids[lo], ids[hi]);
        if (Better(ids[mid], ids[hi]))
            (ids[mid], ids[hi]) = (ids[hi], ids[mid]);
        // Now ids[lo] is the best of the three, ids[hi] the median: use it as the pivot.
        int pivot = ids[hi];
        int store = lo;
        for (int i = lo; i < hi; i++)
        {
            if (Better(ids[i], pivot))
            {
                (ids[i], ids[store]) = (ids[store], ids[i]);
                store++;
            }
        }
        (ids[store], ids[hi]) = (ids[hi], ids[store]);
        return store;
    }
}
