using Lantern.Explainers.Gradients;

namespace Lantern.Explainers.Tests.Gradients;

public class InputPathTests
{
    private static readonly float[] Input = [0.5f, -1, 2, 3, 0, -0.25f];
    private static readonly float[] Baseline = [0, 0.5f, 1, -1, 2, 0];

    private static float[] Written(InputPath path, long index, int length)
    {
        var tensor = new float[length];
        path.Write(index, tensor);
        return tensor;
    }

    private static float[] Factor(InputPath path, long index, int length)
    {
        var factor = new float[length];
        path.WriteProductFactor(index, factor);
        return factor;
    }

    [Fact]
    public void Without_noise_or_path_the_only_evaluation_is_the_input_itself()
    {
        var path = new InputPath(Input, Baseline, path: null, samples: 1, noiseSigma: 0, seed: 1);

        Assert.Equal(1, path.Count);
        Assert.Equal(1, path.Steps);
        Assert.False(path.HasCompletenessPair);
        Assert.Equal(Input, Written(path, 0, Input.Length));
        Assert.Equal(1f, path.Weight(0));
    }

    [Fact]
    public void Gradient_times_input_multiplies_by_the_evaluated_input()
    {
        var path = new InputPath(Input, Baseline, path: null, samples: 1, noiseSigma: 0, seed: 1);

        Assert.Equal(Input, Factor(path, 0, Input.Length));
    }

    [Theory]
    [InlineData(IntegrationRule.GaussLegendre, 5)]
    [InlineData(IntegrationRule.RiemannTrapezoid, 4)]
    [InlineData(IntegrationRule.RiemannMiddle, 3)]
    public void Integrated_gradients_walks_the_straight_line_from_baseline_to_input(IntegrationRule rule, int steps)
    {
        var quadrature = new PathIntegral(rule, steps);
        var path = new InputPath(Input, Baseline, quadrature, samples: 1, noiseSigma: 0, seed: 1);

        Assert.Equal(steps + 2, path.Count);
        Assert.Equal(steps, path.Steps);
        for (var k = 0; k < steps; k++)
        {
            var point = Written(path, k, Input.Length);
            for (var j = 0; j < Input.Length; j++)
                Assert.Equal(Baseline[j] + quadrature.Alphas[k] * (Input[j] - Baseline[j]), point[j], 1e-6);
            Assert.Equal(quadrature.Weights[k], path.Weight(k), 1e-7);
        }
        var total = 0.0;
        for (var k = 0; k < steps; k++) total += path.Weight(k);
        Assert.Equal(1.0, total, 1e-6);
    }

    [Fact]
    public void Integrated_gradients_ends_with_the_input_and_the_baseline_which_count_for_nothing()
    {
        var path = new InputPath(Input, Baseline, new PathIntegral(IntegrationRule.GaussLegendre, 4), 1, 0, seed: 1);

        Assert.True(path.HasCompletenessPair);
        Assert.Equal(path.Count - 2, path.InputIndex);
        Assert.Equal(path.Count - 1, path.BaselineIndex);
        Assert.Equal(Input, Written(path, path.InputIndex, Input.Length));
        Assert.Equal(Baseline, Written(path, path.BaselineIndex, Input.Length));
        Assert.Equal(0f, path.Weight(path.InputIndex));
        Assert.Equal(0f, path.Weight(path.BaselineIndex));
    }

    [Fact]
    public void Integrated_gradients_multiplies_by_input_minus_baseline_at_every_point()
    {
        var path = new InputPath(Input, Baseline, new PathIntegral(IntegrationRule.RiemannRight, 3), 1, 0, seed: 1);
        var difference = Input.Zip(Baseline, (x, b) => x - b).ToArray();

        for (var k = 0; k < 3; k++) Assert.Equal(difference, Factor(path, k, Input.Length));
    }

    [Fact]
    public void SmoothGrad_noise_is_a_function_of_seed_and_sample()
    {
        var input = new float[1001]; // odd: the Box–Muller pair of the last element is cut in half
        var path = new InputPath(input, new float[input.Length], null, samples: 4, noiseSigma: 0.3f, seed: 5);
        var otherSeed = new InputPath(input, new float[input.Length], null, samples: 4, noiseSigma: 0.3f, seed: 6);

        Assert.Equal(4, path.Count);
        for (var i = 0; i < 4; i++)
        {
            var first = Written(path, i, input.Length);
            TestImages.AssertBitIdentical(first, Written(path, i, input.Length), $"sample {i}");
            Assert.NotEqual(first, Written(otherSeed, i, input.Length));
            if (i > 0) Assert.NotEqual(Written(path, i - 1, input.Length), first);
            Assert.Equal(0.25f, path.Weight(i));
        }
    }

    [Fact]
    public void SmoothGrad_noise_is_centred_Gaussian_with_the_given_sigma()
    {
        const int n = 100_000;
        const float sigma = 0.2f;
        var input = new float[n];
        Array.Fill(input, 3f);
        var path = new InputPath(input, new float[n], null, samples: 2, noiseSigma: sigma, seed: 42);

        var noisy = Written(path, 1, n);

        var (sum, squares) = (0.0, 0.0);
        foreach (var v in noisy) (sum, squares) = (sum + (v - 3), squares + (v - 3) * (v - 3));
        var mean = sum / n;
        var std = Math.Sqrt(squares / n - mean * mean);
        Assert.InRange(mean, -0.02 * sigma, 0.02 * sigma);
        Assert.InRange(std, 0.98 * sigma, 1.02 * sigma);
        // About 68.3% within one sigma.
        var within = noisy.Count(v => Math.Abs(v - 3) < sigma) / (double)n;
        Assert.InRange(within, 0.673, 0.693);
    }

    [Fact]
    public void Noisy_integrated_gradients_shares_one_noise_draw_along_each_samples_path()
    {
        var quadrature = new PathIntegral(IntegrationRule.GaussLegendre, 4);
        var path = new InputPath(Input, Baseline, quadrature, samples: 3, noiseSigma: 0.5f, seed: 9);

        Assert.False(path.HasCompletenessPair);
        Assert.Equal(12, path.Count);
        var total = 0.0;
        for (var s = 0; s < 3; s++)
        {
            var factor = Factor(path, s * 4, Input.Length);
            Assert.NotEqual(Input.Zip(Baseline, (x, b) => x - b).ToArray(), factor);
            for (var k = 0; k < 4; k++)
            {
                var i = s * 4 + k;
                TestImages.AssertBitIdentical(factor, Factor(path, i, Input.Length), $"sample {s} step {k}");
                // The point is x0 + α_k (x_s − x0), with x_s − x0 the sample's factor.
                var point = Written(path, i, Input.Length);
                for (var j = 0; j < Input.Length; j++)
                    Assert.Equal(Baseline[j] + quadrature.Alphas[k] * factor[j], point[j], 1e-5);
                Assert.Equal(quadrature.Weights[k] / 3, path.Weight(i), 1e-7);
                total += path.Weight(i);
            }
            if (s > 0) Assert.NotEqual(Factor(path, (s - 1) * 4, Input.Length), factor);
        }
        Assert.Equal(1.0, total, 1e-6);
    }

    [Fact]
    public void Noise_sigma_is_the_fraction_of_the_value_range()
    {
        Assert.Equal(0.6f, InputPath.NoiseSigma([-1, 3, 2, 0.5f], 0.15f), 1e-6f);
        Assert.Equal(0f, InputPath.NoiseSigma([7, 7, 7], 0.15f));
        Assert.Equal(0f, InputPath.NoiseSigma([], 0.15f));
    }

    [Fact]
    public void Mismatched_baseline_or_no_samples_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new InputPath(Input, [1, 2], null, 1, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InputPath(Input, Baseline, null, 0, 0, 1));
    }
}
