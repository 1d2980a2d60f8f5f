namespace Kvasir.Train.Layers;

/// <summary>Token embedding lookup: <c>x[t] = table[tokens[t]]</c>.</summary>
internal static class EmbeddingOp
{
    public static void Forward(ReadOnlySpan<float> table, int[] tokens, float[] x, int n, int d)
    {
        for (var t = 0; t < n; t++)
        {
            table.Slice(tokens[t] * d, d).CopyTo(x.AsSpan(t * d, d));
        }
    }

    /// <summary>dTable[tokens[t]] += dx[t].</summary>
    public static void Backward(float[] dx, int[] tokens, Span<float> dTable, int n, int d)
    {
        for (var t = 0; t < n; t++)
        {
            var row = dTable.Slice(tokens[t] * d, d);
            for (var i = 0; i < d; i++)
            {
                row[i] += dx[(t * d) + i];
            }
        }
    }
}
