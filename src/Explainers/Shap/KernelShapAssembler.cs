using Lantern.Explainers.Lime;

namespace Lantern.Explainers.Shap;

/// <summary>
/// SHAP values of one target: <see cref="Values"/> per feature, summing to <see cref="FullValue"/> − <see cref="BaseValue"/>.
/// <see cref="Exact"/>: every coalition was evaluated, so these are the Shapley values of the superpixel game.
/// </summary>
public sealed record ShapExplanation(int Target, double BaseValue, double FullValue, double[] Values, bool Exact);

public static class KernelShapAssembler
{
    /// <summary>
    /// Solves KernelSHAP's weighted least squares per target, in double: minimise Σ_z w(z)(f(z) − f(∅) − zᵀφ)² over the
    /// evaluated coalitions z subject to Σφ = f(all) − f(∅) (the endpoints carry infinite weight, so they become the
    /// intercept and this constraint). w(z) is the Shapley kernel (M−1)/(C(M,|z|)·|z|·(M−|z|)) in exact mode, where the
    /// solution is exactly the Shapley values, and 1 in sampled mode, where coalitions were already drawn in proportion to
    /// the kernel. With A = Σ w z zᵀ and b = Σ w z (f(z) − f(∅)): φ = A⁻¹b − ν A⁻¹1 with ν = (1ᵀA⁻¹b − Δ) / (1ᵀA⁻¹1).
    /// <para><paramref name="scores"/>: <see cref="KernelShapSampler.SampleCount"/> × <paramref name="targetCount"/>
    /// row-major; <paramref name="targets"/>: the class index of each target column.</para>
    /// </summary>
    public static ShapExplanation[] Explain(KernelShapParameters p, int featureCount, ReadOnlySpan<float> scores, int targetCount, int[] targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        long count = KernelShapSampler.SampleCount(p, featureCount); // validates p and featureCount
        bool exact = KernelShapSampler.IsExact(p, featureCount);
        if (targetCount < 1)
            throw new ArgumentException($"at least one target is required, got {targetCount}", nameof(targetCount));
        if (targets.Length != targetCount)
            throw new ArgumentException($"targets must name {targetCount} classes, got {targets.Length}", nameof(targets));
        if (scores.Length != count * targetCount)
            throw new ArgumentException(
                $"scores must hold {count} samples x {targetCount} targets = {count * targetCount} values, got {scores.Length}", nameof(scores));

        int m = featureCount;
        var kernel = new double[m + 1]; // by coalition size; the endpoints (0 and M) are constraints, not rows
        for (var s = 1; s < m; s++)
            kernel[s] = exact ? (m - 1) / (BinomialCoefficient(m, s) * s * (m - s)) : 1;

        var a = new double[m * m];
        var b = new double[targetCount * m];
        var mask = new bool[m];
        var on = new int[m];
        for (long i = 2; i < count; i++)
        {
            KernelShapSampler.Mask(p, m, i, mask);
            int size = 0;
            for (var j = 0; j < m; j++)
                if (mask[j]) on[size++] = j;
            double w = kernel[size];
            for (var r = 0; r < size; r++)
            for (var c = 0; c <= r; c++)
                a[on[r] * m + on[c]] += w;
            for (var t = 0; t < targetCount; t++)
            {
                double residual = w * ((double)scores[(int)(i * targetCount + t)] - scores[(int)(1L * targetCount + t)]);
                for (var r = 0; r < size; r++) b[t * m + on[r]] += residual;
            }
        }
        for (var r = 0; r < m; r++)
        for (var c = 0; c < r; c++)
            a[c * m + r] = a[r * m + c];

        var ones = new double[m];
        Array.Fill(ones, 1.0);
        var aInvOnes = DenseSolver.SolveSymmetric(a, m, ones);
        double onesAInvOnes = aInvOnes.Sum();

        var explanations = new ShapExplanation[targetCount];
        for (var t = 0; t < targetCount; t++)
        {
            double full = scores[t], empty = scores[targetCount + t];
            var u = DenseSolver.SolveSymmetric(a, m, b.AsSpan(t * m, m));
            double nu = (u.Sum() - (full - empty)) / onesAInvOnes;
            var values = new double[m];
            for (var j = 0; j < m; j++) values[j] = u[j] - nu * aInvOnes[j];
            explanations[t] = new ShapExplanation(targets[t], empty, full, values, exact);
        }
        return explanations;
    }

    private static double BinomialCoefficient(int n, int k)
    {
        double c = 1;
        for (var i = 1; i <= k; i++) c = c * (n - k + i) / i;
        return Math.Round(c); // exact for the n <= 20 of exact mode
    }
}
