using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Models;

/// <summary>
/// LayerCatalog's default Grad-CAM layer, CamHead's classifier weights, and CAM = Grad-CAM on GAP + linear heads:
/// score_c = Σ_k w_ck·mean(A_k) + b_c gives ∂score_c/∂A_k = w_ck/(H·W) everywhere, so α_k = w_ck/(H·W) and
/// Σ_k α_k A_k·(H·W) = Σ_k w_ck A_k (Zhou et al. 2016; Selvaraju et al. 2017, §3.1).
/// </summary>
public sealed class CamTests(ITestOutputHelper output)
{
    public static TheoryData<string, long, long, long> Defaults => new()
    {
        { RealModels.MobileNet, 1280, 7, 7 },
        { RealModels.ShuffleNet, 1024, 7, 7 },
        { RealModels.SqueezeNet, 1000, 13, 13 },
    };

    private static long[] Chw(long[] shape) => shape[^3..];

    [Theory, MemberData(nameof(Defaults))]
    public void The_default_cam_layer_is_the_last_feature_map_with_spatial_extent(string file, long c, long h, long w)
    {
        var layers = RealModels.Layers(file);
        foreach (var layer in layers) output.WriteLine($"{layer.Name} {layer.OpType} {layer.NodeName} [{string.Join(",", layer.Shape)}]{(layer.IsDefaultCamLayer ? " default" : "")}");
        Assert.True(layers.Count > 10, $"only {layers.Count} layers listed");
        Assert.All(layers, l => Assert.True(l.Shape.Length is 3 or 4, $"{l.Name} has shape [{string.Join(",", l.Shape)}]"));
        var chosen = Assert.Single(layers, l => l.IsDefaultCamLayer);
        Assert.Equal([c, h, w], Chw(chosen.Shape));
        var last = layers.Last(l => Chw(l.Shape)[1] * Chw(l.Shape)[2] > 1);
        Assert.Equal(Chw(last.Shape), Chw(chosen.Shape));
        if (file == RealModels.SqueezeNet) Assert.Contains(layers, l => l.Name == "fire9/concat_1" && Chw(l.Shape).SequenceEqual([512L, 13, 13]));
    }

    [Fact]
    public void The_mobilenet_head_is_its_MatMul_weights_and_bias()
    {
        var model = RealModels.Bytes(RealModels.MobileNet);
        var layer = RealModels.Layers(RealModels.MobileNet).Single(l => l.IsDefaultCamLayer).Name;
        var head = CamHead.Find(model, layer);
        Assert.NotNull(head);
        AssertHead(head, ModelSurgery.FloatInitializer(model, "output_MatMul_quantized_W_fp32"), 1280,
            ModelSurgery.FloatInitializer(model, "classifier.1.bias_quantized_fp32"));
    }

    [Fact]
    public void The_shufflenet_head_is_found_through_ReduceMean_and_the_Relu_after_it()
    {
        var model = RealModels.Bytes(RealModels.ShuffleNet);
        var head = CamHead.Find(model, "609");
        Assert.NotNull(head);
        AssertHead(head, ModelSurgery.FloatInitializer(model, "fc.weight_dequantized"), 1024, ModelSurgery.FloatInitializer(model, "fc.bias"));
    }

    [Fact]
    public void The_squeezenet_head_is_global_average_pooling_alone_with_identity_weights()
    {
        var model = RealModels.Bytes(RealModels.SqueezeNet);
        var head = CamHead.Find(model, "conv10_2");
        Assert.NotNull(head);
        Assert.Equal((1000, 1000), (head.Classes, head.Channels));
        for (var c = 0; c < 1000; c++)
            for (var k = 0; k < 1000; k++) Assert.Equal(c == k ? 1f : 0f, head.Weights[c * 1000 + k]);
        Assert.All(head.Bias, b => Assert.Equal(0f, b));
        Assert.Null(CamHead.Find(model, "fire9/concat_1")); // conv10 lies between it and the pooling
    }

    /// <summary>Weights are [classes × C] row-major; the model's MatMul initializer is [C × classes].</summary>
    private static void AssertHead(CamHeadWeights head, float[] matMulWeights, int channels, float[] bias)
    {
        Assert.Equal((1000, channels), (head.Classes, head.Channels));
        Assert.Equal(1000 * channels, head.Weights.Length);
        for (var c = 0; c < 1000; c += 37)
            for (var k = 0; k < channels; k++) Assert.Equal(matMulWeights[k * 1000 + c], head.Weights[c * channels + k]);
        Assert.Equal(bias, head.Bias);
    }

    public static TheoryData<string, string> Layers => new()
    {
        { RealModels.MobileNet, "" },
        { RealModels.ShuffleNet, "609" },
        { RealModels.SqueezeNet, "conv10_2" },
    };

    [Theory, MemberData(nameof(Layers))]
    public void Cam_equals_grad_cam_times_the_map_area_on_a_gap_linear_head(string file, string layer)
    {
        var model = RealModels.Bytes(file);
        if (layer.Length == 0) layer = RealModels.Layers(file).Single(l => l.IsDefaultCamLayer).Name;
        var head = CamHead.Find(model, layer) ?? throw new InvalidOperationException($"no CAM head for {layer}");
        var x = RealModels.Tench(file);
        var gm = GradientModelBuilder.Build(model, new GradientRequest { GradientOf = [layer], ValuesOf = [layer] });
        var top = RealModels.TopClass(model, x, gm.TargetTensor);
        var (_, _, outputs) = GradientCheck.RunGradientModel(gm, x, RealModels.OneHot(head.Classes, top), new FdOptions(),
            gm.GradientOutputs[layer], gm.ValueOutputs[layer]);
        var a = outputs[gm.ValueOutputs[layer]];
        var grad = outputs[gm.GradientOutputs[layer]].Data;
        var (channels, area) = ((int)a.Shape[^3], (int)(a.Shape[^2] * a.Shape[^1]));
        Assert.Equal(head.Channels, channels);

        var alpha = new double[channels];
        for (var k = 0; k < channels; k++)
            for (var p = 0; p < area; p++) alpha[k] += grad[k * area + p] / area;

        double worst = 0, scale = 0;
        for (var p = 0; p < area; p++)
        {
            double cam = 0, gradCam = 0, magnitude = 0;
            for (var k = 0; k < channels; k++)
            {
                var value = a.Data[k * area + p];
                cam += head.Weights[top * channels + k] * value;
                gradCam += alpha[k] * value * area;
                magnitude += Math.Abs(head.Weights[top * channels + k] * value);
            }
            worst = Math.Max(worst, Math.Abs(cam - gradCam));
            scale = Math.Max(scale, magnitude);
        }
        output.WriteLine($"{file} {layer}: class {top}, max |CAM − Grad-CAM·HW| {worst:G3}, max Σ|w·A| {scale:G3}");
        Assert.True(scale > 0, "the feature map is all zero");
        // Float32 gradients w/(H·W) carry ~1e-7 relative rounding per term; summed over C channels that stays far below
        // 1e-4 of the largest Σ_k |w_ck A_k|, the scale of any cancellation between terms.
        Assert.True(worst <= 1e-4 * scale, $"max |CAM − Grad-CAM·HW| {worst} exceeds 1e-4 × {scale}");
    }
}
