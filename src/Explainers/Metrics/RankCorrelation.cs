namespace Lantern.Explainers.Metrics;

/// <summary>Spearman's rank correlation, ties given their average rank (as scipy.stats.spearmanr).</summary>
public static class RankCorrelation
{
    public static double Spearman(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"the two maps have {a.Length} and {b.Length} values");
        if (a.Length < 2) throw new ArgumentException("a correlation needs at least two values");
        var ra = Ranks(a);
        var rb = Ranks(b);
        double meanA = ra.Average(), meanB = rb.Average(), cov = 0, varA = 0, varB = 0;
        for (var i = 0; i < ra.Length; i++)
        {
            cov += (ra[i] - meanA) * (rb[i] - meanB);
            varA += (ra[i] - meanA) * (ra[i] - meanA);
            varB += (rb[i] - meanB) * (rb[i] - meanB);
        }
        // A constant map has no ranking: it agrees with nothing (0), the convention of Quantus' sanity checks.
        return varA == 0 || varB == 0 ? 0 : cov / Math.Sqrt(varA * varB);
    }

    private static double[] Ranks(ReadOnlySpan<float> values)
    {
        var order = Enumerable.Range(0, values.Length).ToArray();
        var copy = values.ToArray();
        Array.Sort(order, (i, j) => copy[i].CompareTo(copy[j]) is var c and not 0 ? c : i.CompareTo(j));
        var ranks = new double[values.Length];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && copy[order[end + 1]] == copy[order[start]]) end++;
            var rank = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++) ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }
}
