using Lantern.Explainers.Lime;
using Lantern.Explainers.Sampling;

namespace Lantern.Explainers.Shap;

/// <summary>
/// The coalitions KernelSHAP evaluates, by index, computable in any order on any worker.
/// <para>Index 0 = every feature on, index 1 = every feature off. From index 2 on, coalitions come in complementary
/// pairs: index 2k+3 is the complement of index 2k+2, in both modes.</para>
/// <para>Exact (2^M &lt;= Samples, M &lt;= 20): index 2k+2 is the coalition whose bit j is feature j of the number k+1
/// (k = 0 .. 2^(M−1)−2, so feature M−1 is off in it and on in its complement), which enumerates every proper non-empty
/// coalition once; <see cref="SampleCount"/> = 2^M.</para>
/// <para>Sampled: pair k draws from <c>new CounterRandom(seed, 2k+2)</c> a size s in 1..M−1 with probability
/// ∝ (M−1)/(s(M−s)) (the Shapley kernel's total weight of all coalitions of size s; Double(0)) and then s members
/// uniformly by selection sampling (Knuth's algorithm S, Double(1+j) for feature j), so a coalition is drawn with
/// probability proportional to its kernel weight and every sample counts once in the regression. Its complement is
/// the antithetic partner. <see cref="SampleCount"/> = 2 + 2·⌊(Samples − 2)/2⌋.</para>
/// </summary>
public static class KernelShapSampler
{
    internal const int MaxExactFeatures = 20;

    /// <summary>Whether every coalition is enumerated (2^M &lt;= Samples and M &lt;= 20).</summary>
    public static bool IsExact(KernelShapParameters p, int featureCount)
    {
        Check(p, featureCount);
        return featureCount <= MaxExactFeatures && (1L << featureCount) <= p.Samples;
    }

    /// <summary>Total evaluations including the two endpoints.</summary>
    public static long SampleCount(KernelShapParameters p, int featureCount) =>
        IsExact(p, featureCount) ? 1L << featureCount : 2 + 2L * ((p.Samples - 2) / 2);

    public static void Mask(KernelShapParameters p, int featureCount, long index, Span<bool> mask)
    {
        long count = SampleCount(p, featureCount);
        if (index < 0 || index >= count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"KernelSHAP evaluates {count} samples");
        if (mask.Length != featureCount)
            throw new ArgumentException($"mask must hold {featureCount} values, got {mask.Length}", nameof(mask));
        if (index < 2)
        {
            mask.Fill(index == 0);
            return;
        }

        long pair = (index - 2) / 2;
        bool complement = (index & 1) == 1;
        if (IsExact(p, featureCount))
        {
            long code = pair + 1;
            for (var j = 0; j < featureCount; j++)
                mask[j] = (((code >> j) & 1) == 1) != complement;
            return;
        }

        var random = new CounterRandom(p.Seed, 2 + 2 * pair);
        int m = featureCount;
        int size = DrawSize(m, random.Double(0));
        int needed = size;
        for (var j = 0; j < m; j++)
        {
            // Algorithm S: feature j joins with probability (still needed) / (still available).
            bool take = needed > 0 && random.Double(1 + j) * (m - j) < needed;
            if (take) needed--;
            mask[j] = take != complement;
        }
    }

    /// <summary>Size s in 1..M−1 with P(s) ∝ 1/(s(M−s)), by inverting the cumulative sum at <paramref name="u"/> ∈ [0, 1).</summary>
    private static int DrawSize(int m, double u)
    {
        double total = 0;
        for (var s = 1; s < m; s++) total += 1.0 / ((double)s * (m - s));
        double target = u * total, cumulative = 0;
        for (var s = 1; s < m - 1; s++)
        {
            cumulative += 1.0 / ((double)s * (m - s));
            if (target < cumulative) return s;
        }
        return m - 1;
    }

    private static void Check(KernelShapParameters p, int featureCount)
    {
        ArgumentNullException.ThrowIfNull(p);
        p.Validate();
        if (featureCount < 1)
            throw new ArgumentException($"at least one feature is required, got {featureCount}", nameof(featureCount));
    }
}

/// <summary>The KernelSHAP coalitions as an <see cref="IMaskSource"/> for <see cref="MaskPerturber"/>.</summary>
public sealed class KernelShapMasks : IMaskSource
{
    private readonly KernelShapParameters _parameters;

    public KernelShapMasks(KernelShapParameters parameters, int featureCount)
    {
        SampleCount = KernelShapSampler.SampleCount(parameters, featureCount); // validates both
        _parameters = parameters;
        FeatureCount = featureCount;
    }

    public int FeatureCount { get; }
    public long SampleCount { get; }

    public void Mask(long index, Span<bool> mask) => KernelShapSampler.Mask(_parameters, FeatureCount, index, mask);
}
