using Lantern.Gradients.Tests.Support;
using Xunit.Abstractions;

namespace Lantern.Gradients.Tests.Models;

/// <summary>
/// The shared ImageNet models: the input gradient of the top class's logit against central differences of the original
/// model, the converted fp16 and QDQ models against their fp32 twins, and the refusal of the QOperator int8 model.
/// </summary>
public sealed class RealModelGradientTests(ITestOutputHelper output)
{
    /// <summary>
    /// Directional derivatives along smooth directions (<see cref="RealModels.SmoothDirection"/>), step h in input units.
    /// These nets are piecewise linear (ReLU, ReLU6, MaxPool) with ~10⁶ units, so some unit always crosses a kink within
    /// ±h: the central difference's error shrinks about linearly with h (measured on the tench image: 5–70% at h = 0.1,
    /// 1–12% at 1e-3, ≤ 0.9% of the scale |g·v| + rms(g)‖v‖ at 3e-4) until float32 rounding of an O(10) logit, divided
    /// by 2h, takes over below ~1e-4. Hence h = 3e-4 for the ImageNet-normalised inputs (spread ±2.5) and 0.015 for
    /// SqueezeNet's 0–255 Caffe inputs (spread 50× larger), with 1e-3·h and 3·h as fallbacks when a kink sits right
    /// at x (one direction in 15 measured 3% at 3e-4 and 0.3% at 1e-3), and a tolerance of 1e-2. A wrong rule (a missing
    /// ReLU mask, a transposed kernel, a padding off by one) is off at every step, by far more than 1e-2.
    /// </summary>
    [Theory]
    [InlineData(RealModels.SqueezeNet, 0.015f)]
    [InlineData(RealModels.MobileNet, 3e-4f)]
    [InlineData(RealModels.ShuffleNet, 3e-4f)]
    public void The_input_gradient_of_the_top_logit_matches_finite_differences(string file, float h)
    {
        var model = RealModels.Bytes(file);
        var x = RealModels.Tench(file);
        var gm = RealModels.InputGradientModel(file);
        if (file == RealModels.SqueezeNet)
        {
            // The output is Softmax probabilities: the target is the Softmax's input, the GlobalAveragePool of conv10.
            Assert.Equal("pool10_1", gm.TargetTensor);
        }
        else Assert.Equal("output", gm.TargetTensor);
        var classes = (int)gm.SeedShape.Aggregate(1L, (a, b) => a * b);
        Assert.Equal(1000, classes);

        var top = RealModels.TopClass(model, x, gm.TargetTensor);
        output.WriteLine($"{file}: top class {top}");
        var report = GradientCheck.InputGradient(model, x, options: new FdOptions
        {
            H = h,
            Tolerance = 1e-2,
            FallbackSteps = [1f / 3, 3f],
            DirectionsPerRow = 2,
            CoordinatesPerRow = 0,
            Direction = RealModels.SmoothDirection,
            ScoreTolerance = 1e-4,
        }, seed: RealModels.OneHot(classes, top), built: gm);
        output.WriteLine(report.Log);
    }

    private static float[] InputGradient(byte[] model, Tensor x, int top)
    {
        var gm = GradientModelBuilder.Build(model, new GradientRequest { GradientOf = [ModelSurgery.InputName(model)] });
        return InputGradient(gm, ModelSurgery.InputName(model), x, top);
    }

    private static float[] InputGradient(GradientModel gm, string input, Tensor x, int top)
    {
        var name = gm.GradientOutputs[input];
        var (_, _, outputs) = GradientCheck.RunGradientModel(gm, x, RealModels.OneHot(1000, top), new FdOptions(), name);
        return outputs[name].Data;
    }

    [Fact]
    public void The_fp16_squeezenet_gives_the_gradient_of_its_fp32_twin()
    {
        var fp32 = RealModels.Bytes(RealModels.SqueezeNet);
        var fp16 = RealModels.Bytes(RealModels.SqueezeNetFp16);
        var x = RealModels.Tench(RealModels.SqueezeNet);
        var top = RealModels.TopClass(fp32, x, "pool10_1");
        var gm16 = GradientModelBuilder.Build(fp16, new GradientRequest { GradientOf = ["data_0"] });
        Assert.Equal("data_0", gm16.InputName);

        var cosine = RealModels.Cosine(InputGradient(RealModels.InputGradientModel(RealModels.SqueezeNet), "data_0", x, top),
            InputGradient(gm16, "data_0", x, top));
        output.WriteLine($"cosine(fp16, fp32) = {cosine}");
        // The fp32 twin is the fp16 file with every weight cast exactly to float32, so a float32 backward graph of
        // the fp16 model is the same computation; anything below 0.99 means the conversion changed the network.
        Assert.True(cosine > 0.99, $"cosine similarity {cosine}");
    }

    [Fact]
    public void The_QDQ_shufflenet_gives_a_gradient_close_to_its_dequantized_twin()
    {
        var fp32 = RealModels.Bytes(RealModels.ShuffleNet);
        var qdq = RealModels.Bytes(RealModels.ShuffleNetQdq);
        var x = RealModels.Tench(RealModels.ShuffleNet);
        var top = RealModels.TopClass(fp32, x, "output");

        var cosine = RealModels.Cosine(InputGradient(RealModels.InputGradientModel(RealModels.ShuffleNet), "input", x, top),
            InputGradient(qdq, x, top));
        output.WriteLine($"cosine(qdq, fp32 twin) = {cosine}");
        // The twin differs from the dequantized QDQ graph only by rounding to the quantization grid (which the backward pass
        // treats as identity), so the gradients point the same way up to that noise.
        Assert.True(cosine > 0.9, $"cosine similarity {cosine}");
    }

    [Fact]
    public void The_QOperator_int8_mobilenet_is_refused_naming_its_quantized_ops()
    {
        var model = RealModels.Bytes(RealModels.MobileNetInt8);
        var error = Assert.Throws<UnsupportedModelException>(() =>
            GradientModelBuilder.Build(model, new GradientRequest { GradientOf = ["input"] }));
        output.WriteLine(error.Message);
        Assert.Contains("QLinear", error.Message);
    }
}
