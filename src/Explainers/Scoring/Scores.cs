namespace Lantern.Explainers.Scoring;

public static class Scores
{
    /// <summary>Softmax, shifted by the maximum so large logits do not overflow; exponentials summed in double.</summary>
    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        var result = new float[logits.Length];
        if (logits.Length == 0) return result;

        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        var exps = new double[logits.Length];
        double total = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            exps[i] = Math.Exp(logits[i] - max);
            total += exps[i];
        }
        for (var i = 0; i < logits.Length; i++)
            result[i] = (float)(exps[i] / total);
        return result;
    }

    /// <summary>
    /// The softmax probabilities of a few classes only, without allocating: <c>destination[k]</c> is bit for bit
    /// <c>Softmax(logits)[indices[k]]</c> (same shift, same exponentials, summed in double in the same order). The worker's
    /// hot path calls it once per evaluated image.
    /// </summary>
    public static void SoftmaxOf(ReadOnlySpan<float> logits, ReadOnlySpan<int> indices, Span<float> destination)
    {
        if (destination.Length < indices.Length)
            throw new ArgumentException($"destination holds {destination.Length} values, {indices.Length} needed", nameof(destination));
        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        double total = 0;
        for (var i = 0; i < logits.Length; i++) total += Math.Exp(logits[i] - max);
        for (var k = 0; k < indices.Length; k++)
            destination[k] = (float)(Math.Exp(logits[indices[k]] - max) / total);
    }

    /// <summary>
    /// The indices of the <paramref name="k"/> highest scores (all of them when k exceeds the count), highest first;
    /// ties go to the lower index, NaN ranks below every number.
    /// </summary>
    public static int[] TopK(ReadOnlySpan<float> scores, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        k = Math.Min(k, scores.Length);
        var top = new int[k];
        if (k == 0) return top;
        int filled = 0;
        // Insertion into a sorted list of k: O(n k), fine for the handful of classes a user asks for.
        for (var i = 0; i < scores.Length; i++)
        {
            if (filled == k && !Ranks(scores, i, top[k - 1])) continue;
            int at = Math.Min(filled, k - 1);
            while (at > 0 && Ranks(scores, i, top[at - 1]))
            {
                top[at] = top[at - 1];
                at--;
            }
            top[at] = i;
            if (filled < k) filled++;
        }
        return top;
    }

    // Whether index a ranks strictly before index b; a > b always holds when called, so equal scores keep b first.
    private static bool Ranks(ReadOnlySpan<float> scores, int a, int b)
    {
        float sa = scores[a], sb = scores[b];
        if (float.IsNaN(sa)) return false;
        return float.IsNaN(sb) || sa > sb;
    }
}
