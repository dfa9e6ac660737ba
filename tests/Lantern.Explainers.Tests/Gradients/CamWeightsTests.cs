using Lantern.Explainers.Gradients;

namespace Lantern.Explainers.Tests.Gradients;

public class CamWeightsTests
{
    [Fact]
    public void Grad_CAM_weights_each_activation_channel_by_its_mean_gradient()
    {
        // Two channels over 2x2 pixels. mean(G0) = 1, mean(G1) = (2 − 2 + 4 − 8) / 4 = −1.
        float[] activations = [1, 2, 3, 4, /**/ 0, 1, 0, 1];
        float[] gradients = [1, 1, 1, 1, /**/ 2, -2, 4, -8];
        float[] map = [100, 100, 100, 100];

        CamWeights.AddGradCam(activations, gradients, map);

        // map += 1·A0 − 1·A1.
        Assert.Equal([101f, 101, 103, 103], map);
    }

    [Fact]
    public void Grad_CAM_plus_plus_matches_a_hand_computed_channel()
    {
        // One channel, A = 1 everywhere (ΣA = 4), G = (1, 0, −1, 2):
        //   g = 1:  α = 1 / (2 + 4 + ε) ≈ 1/6, · ReLU(1) = 1/6
        //   g = 0:  α = 0 (pytorch-grad-cam's np.where(grads != 0, aij, 0))
        //   g = −1: α = 1 / (2 − 4 + ε), · ReLU(−1) = 0
        //   g = 2:  α = 4 / (8 + 32 + ε) = 0.1, · ReLU(2) = 0.2
        float[] activations = [1, 1, 1, 1];
        float[] gradients = [1, 0, -1, 2];
        var map = new float[4];

        CamWeights.AddGradCamPlusPlus(activations, gradients, map);

        Assert.All(map, v => Assert.Equal(1.0 / 6 + 0.2, v, 1e-6));
    }

    [Fact]
    public void Grad_CAM_plus_plus_matches_pytorch_grad_cams_formula_on_random_layers()
    {
        const int channels = 5, pixels = 7 * 6;
        var random = new Random(11);
        var activations = new float[channels * pixels];
        var gradients = new float[channels * pixels];
        for (var i = 0; i < activations.Length; i++)
        {
            activations[i] = (float)random.NextDouble() * 3;                              // post-ReLU features
            gradients[i] = random.Next(5) == 0 ? 0 : (float)(random.NextDouble() - 0.5); // some exact zeros
        }
        float[] start = [.. Enumerable.Range(0, pixels).Select(p => 0.1f * p)];
        var map = (float[])start.Clone();

        CamWeights.AddGradCamPlusPlus(activations, gradients, map);

        var expected = start.Select(v => (double)v).ToArray();
        for (var k = 0; k < channels; k++)
        {
            var sumA = 0.0;
            for (var p = 0; p < pixels; p++) sumA += activations[k * pixels + p];
            var w = 0.0;
            for (var p = 0; p < pixels; p++)
            {
                double g = gradients[k * pixels + p];
                var aij = g == 0 ? 0 : g * g / (2 * g * g + sumA * g * g * g + 1e-6);
                w += aij * Math.Max(g, 0);
            }
            for (var p = 0; p < pixels; p++) expected[p] += w * activations[k * pixels + p];
        }
        for (var p = 0; p < pixels; p++) Assert.Equal(expected[p], map[p], 1e-4);
    }

    [Fact]
    public void Grad_CAM_plus_plus_ignores_channels_whose_gradients_are_all_negative_or_zero()
    {
        float[] activations = [1, 2, 3, 4, /**/ 5, 6, 7, 8];
        float[] gradients = [-1, 0, -2, 0, /**/ 0, 0, 0, 0];
        float[] map = [1, 2, 3, 4];

        CamWeights.AddGradCamPlusPlus(activations, gradients, map);

        Assert.Equal([1f, 2, 3, 4], map);
    }

    [Fact]
    public void Weighted_sum_adds_scale_times_the_channel_combination()
    {
        float[] activations = [1, 2, 3, /**/ 4, 5, 6, /**/ 7, 8, 9];
        float[] weights = [1, 0, -0.5f];
        float[] map = [1, 1, 1];

        CamWeights.AddWeighted(activations, weights, map, scale: 2);

        // 2 · (A0 − 0.5·A2) = 2·(1 − 3.5, 2 − 4, 3 − 4.5) = (−5, −4, −3).
        Assert.Equal([-4f, -3, -2], map);
    }

    [Fact]
    public void Weighted_sum_defaults_to_scale_1()
    {
        float[] activations = [1, 2, /**/ 3, 4];
        var map = new float[2];

        CamWeights.AddWeighted(activations, [2, 1], map);

        Assert.Equal([5f, 8], map);
    }
}
