using Lantern.Explainers.Shap;

namespace Lantern.Explainers.Tests.Shap;

public class KernelShapTests
{
    /// <summary>A game with interactions: pairwise products, a 3-way term and a square, so Shapley ≠ any linear read-out.</summary>
    private static double NonLinear(bool[] s)
    {
        double Sum(params int[] k) => k.Sum(j => s[j] ? 1.0 + 0.3 * j : 0);
        double v = 0.5 + Sum(0, 1, 2, 3, 4, 5) * 0.2;
        if (s[0] && s[1]) v += 1.7;
        if (s[2] && s[3] && s[4]) v -= 2.3;
        if (s[1] || s[5]) v += 0.9;
        v += 0.15 * Math.Pow(Sum(0, 2, 4), 2);
        return v;
    }

    /// <summary>The game on the float scores the assembler sees, so the exact comparison is not blurred by float rounding.</summary>
    private static double AsScore(double v) => (float)v;

    /// <summary>Shapley values by the permutation formula: the mean marginal contribution over all M! orders.</summary>
    private static double[] BruteForceShapley(int m, Func<bool[], double> game)
    {
        var values = new double[m];
        var order = Enumerable.Range(0, m).ToArray();
        long count = 0;
        foreach (var permutation in Permutations(order))
        {
            var s = new bool[m];
            double before = AsScore(game(s));
            foreach (var j in permutation)
            {
                s[j] = true;
                double after = AsScore(game(s));
                values[j] += after - before;
                before = after;
            }
            count++;
        }
        return values.Select(v => v / count).ToArray();
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }
        for (var i = 0; i < items.Length; i++)
        {
            var rest = items.Where((_, k) => k != i).ToArray();
            foreach (var tail in Permutations(rest))
                yield return [items[i], .. tail];
        }
    }

    private static float[] Scores(KernelShapParameters p, int m, Func<bool[], double> game)
    {
        long count = KernelShapSampler.SampleCount(p, m);
        var scores = new float[count];
        var mask = new bool[m];
        for (long i = 0; i < count; i++)
        {
            KernelShapSampler.Mask(p, m, i, mask);
            scores[i] = (float)game(mask);
        }
        return scores;
    }

    [Fact]
    public void Exact_mode_on_6_features_reproduces_brute_force_Shapley_values_of_a_nonlinear_game()
    {
        var p = new KernelShapParameters(Samples: 64);
        Assert.True(KernelShapSampler.IsExact(p, 6));
        Assert.Equal(64, KernelShapSampler.SampleCount(p, 6));

        var e = Assert.Single(KernelShapAssembler.Explain(p, 6, Scores(p, 6, NonLinear), 1, [7]));

        var expected = BruteForceShapley(6, NonLinear);
        Assert.True(e.Exact);
        Assert.Equal(7, e.Target);
        for (var j = 0; j < 6; j++)
            Assert.True(Math.Abs(expected[j] - e.Values[j]) < 1e-9, $"feature {j}: expected {expected[j]:R}, got {e.Values[j]:R}");
        Assert.Equal(AsScore(NonLinear(new bool[6])), e.BaseValue);
        Assert.Equal(AsScore(NonLinear(Enumerable.Repeat(true, 6).ToArray())), e.FullValue);
        Assert.True(Math.Abs(e.Values.Sum() - (e.FullValue - e.BaseValue)) < 1e-9, "efficiency: Σφ = f(all) − f(none)");
    }

    [Fact]
    public void Exact_mode_evaluates_every_coalition_once_endpoints_first()
    {
        var p = new KernelShapParameters(Samples: 1000);
        const int m = 7;
        Assert.Equal(128, KernelShapSampler.SampleCount(p, m));
        var seen = new HashSet<int>();
        var mask = new bool[m];
        for (long i = 0; i < 128; i++)
        {
            KernelShapSampler.Mask(p, m, i, mask);
            int code = 0;
            for (var j = 0; j < m; j++) code |= mask[j] ? 1 << j : 0;
            if (i == 0) Assert.Equal(127, code);
            if (i == 1) Assert.Equal(0, code);
            Assert.True(seen.Add(code), $"coalition {code} appears twice");
        }
    }

    [Theory]
    [InlineData(64, 6)]     // exact
    [InlineData(301, 12)]   // sampled
    public void Coalition_2k_plus_3_is_the_complement_of_coalition_2k_plus_2(int samples, int m)
    {
        var p = new KernelShapParameters(samples, Seed: 9);
        var a = new bool[m];
        var b = new bool[m];
        for (long i = 2; i < KernelShapSampler.SampleCount(p, m); i += 2)
        {
            KernelShapSampler.Mask(p, m, i, a);
            KernelShapSampler.Mask(p, m, i + 1, b);
            Assert.Equal(a.Select(x => !x), b);
            Assert.Contains(true, a);   // never an endpoint again
            Assert.Contains(false, a);
        }
    }

    [Fact]
    public void Sampled_mode_rounds_the_budget_down_to_whole_pairs()
    {
        Assert.False(KernelShapSampler.IsExact(new KernelShapParameters(301), 12));
        Assert.Equal(300, KernelShapSampler.SampleCount(new KernelShapParameters(301), 12));
        Assert.Equal(300, KernelShapSampler.SampleCount(new KernelShapParameters(300), 12));
        Assert.False(KernelShapSampler.IsExact(new KernelShapParameters(int.MaxValue), 21));
    }

    [Fact]
    public void Sampled_coalition_sizes_follow_the_Shapley_kernel()
    {
        const int m = 16, samples = 20002; // 2^16 > 20002: sampled
        var p = new KernelShapParameters(samples, Seed: 1);
        var bySize = new double[m + 1];
        var mask = new bool[m];
        for (long i = 2; i < samples; i++)
        {
            KernelShapSampler.Mask(p, m, i, mask);
            bySize[mask.Count(x => x)]++;
        }
        double total = Enumerable.Range(1, m - 1).Sum(s => 1.0 / (s * (m - s)));
        for (var s = 1; s < m; s++)
        {
            double expected = (samples - 2) / (s * (double)(m - s)) / total;
            Assert.InRange(bySize[s], expected - 5 * Math.Sqrt(expected) - 5, expected + 5 * Math.Sqrt(expected) + 5);
        }
    }

    [Fact]
    public void Sampled_mode_on_12_features_recovers_the_coefficients_of_a_linear_game()
    {
        const int m = 12;
        var w = Enumerable.Range(0, m).Select(j => (j % 3 - 1) * 0.8 + 0.1 * j).ToArray();
        double Linear(bool[] s) => 2 + Enumerable.Range(0, m).Sum(j => s[j] ? w[j] : 0);
        var p = new KernelShapParameters(Samples: 400, Seed: 3);

        var e = KernelShapAssembler.Explain(p, m, Scores(p, m, Linear), 1, [0])[0];

        Assert.False(e.Exact);
        for (var j = 0; j < m; j++) Assert.Equal(w[j], e.Values[j], 4); // float scores limit the agreement
        Assert.Equal(e.FullValue - e.BaseValue, e.Values.Sum(), 9);
    }

    /// <summary>A 10-feature game with interactions for sampled mode (2^10 = 1024 coalitions, more than the budget).</summary>
    private static double NonLinear10(bool[] s)
    {
        double v = 0;
        for (var j = 0; j < 10; j++) v += s[j] ? 0.2 + 0.1 * j : 0;
        if (s[0] && s[1]) v += 1.5;
        if (s[2] && s[7] && s[9]) v -= 2.0;
        if (s[4] || s[5]) v += 1.0;
        return v;
    }

    /// <summary>Shapley values by the subset formula: Σ over S ∌ j of |S|!(M−|S|−1)!/M! · (f(S ∪ j) − f(S)).</summary>
    private static double[] SubsetShapley(int m, Func<bool[], double> game)
    {
        var factorial = new double[m + 1];
        factorial[0] = 1;
        for (var k = 1; k <= m; k++) factorial[k] = factorial[k - 1] * k;
        var values = new double[m];
        var s = new bool[m];
        for (var code = 0; code < 1 << m; code++)
        {
            for (var j = 0; j < m; j++) s[j] = (code >> j & 1) == 1;
            int size = s.Count(x => x);
            double without = AsScore(game(s));
            for (var j = 0; j < m; j++)
            {
                if (s[j]) continue;
                s[j] = true;
                values[j] += factorial[size] * factorial[m - size - 1] / factorial[m] * (AsScore(game(s)) - without);
                s[j] = false;
            }
        }
        return values;
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void Sampled_mode_approaches_the_exact_values_of_a_nonlinear_game(ulong seed)
    {
        const int m = 10;
        var exact = SubsetShapley(m, NonLinear10);
        var p = new KernelShapParameters(Samples: 1000, Seed: seed); // < 1024: sampled, coalitions may repeat

        var e = KernelShapAssembler.Explain(p, m, Scores(p, m, NonLinear10), 1, [0])[0];

        Assert.False(e.Exact);
        Assert.Equal(e.FullValue - e.BaseValue, e.Values.Sum(), 9);
        double error = Enumerable.Range(0, m).Max(j => Math.Abs(exact[j] - e.Values[j]));
        // ~0.06 is typical at 1000 samples; values are up to 1.2.
        Assert.True(error < 0.15, $"max error {error} against values {string.Join(", ", exact.Select(v => v.ToString("F3")))}");
    }

    [Fact]
    public void Brute_force_references_agree_with_each_other()
    {
        var byPermutation = BruteForceShapley(6, NonLinear);
        var bySubset = SubsetShapley(6, NonLinear);
        for (var j = 0; j < 6; j++) Assert.Equal(byPermutation[j], bySubset[j], 12);
    }

    [Fact]
    public void The_same_seed_gives_the_same_coalitions_and_another_seed_different_ones()
    {
        bool[] Masks(ulong seed)
        {
            var p = new KernelShapParameters(202, seed);
            var all = new bool[202 * 15];
            for (var i = 0; i < 202; i++) KernelShapSampler.Mask(p, 15, i, all.AsSpan(i * 15, 15));
            return all;
        }

        Assert.Equal(Masks(4), Masks(4));
        Assert.NotEqual(Masks(4), Masks(5));
    }

    [Fact]
    public void KernelShapMasks_serves_the_sampler_coalitions()
    {
        var p = new KernelShapParameters(50, 2);
        var source = new KernelShapMasks(p, 10);
        Assert.Equal(50, source.SampleCount);
        var expected = new bool[10];
        var actual = new bool[10];
        for (var i = 0; i < 50; i++)
        {
            KernelShapSampler.Mask(p, 10, i, expected);
            source.Mask(i, actual);
            Assert.Equal(expected, actual);
        }
    }
}
