using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Segmentation = Lantern.Contracts.Api.Segmentation;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// Every shared model through the whole cluster on golden_retriever.jpg (1080×1080): the model's top-1 is golden
/// retriever (207) and the strongest occlusion lies on the dog. Coarse windows keep it quick.
/// </summary>
public sealed class RealModelTests : IAsyncLifetime
{
    // The dog in golden_retriever.jpg: head, chest and paws, in image pixels (x0, y0, x1, y1).
    private static readonly (int X0, int Y0, int X1, int Y1) Dog = (190, 120, 730, 1000);
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    public static TheoryData<string> Models() => new()
    {
        "squeezenet1.0-fp32.onnx", "squeezenet1.0-fp16.onnx",
        "mobilenetv2-12-fp32-dequant.onnx", "mobilenetv2-12-int8.onnx",
        "shufflenet-v2-12-fp32-dequant.onnx", "shufflenet-v2-12-qdq.onnx",
    };

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Each_shared_model_calls_the_dog_a_golden_retriever_and_occlusion_finds_it_on_the_dog(string model)
    {
        var submit = new SubmitJobRequest
        {
            Preprocessing = PreprocessingOf(model),
            Targets = new Targets { TopK = 1 },
            Occlusion = TestJobs.Occlusion((216, 108)), // 9×9 windows over the 1080×1080 image
        };
        var result = await TestJobs.RunAsync(_node, submit,
            await File.ReadAllBytesAsync(SharedData.Model(model)), await File.ReadAllBytesAsync(SharedData.Image("golden_retriever.jpg")));

        Assert.Equal(207, result.TopClasses[0].ClassIndex);
        Assert.Equal([207], result.Targets);
        var map = Assert.Single(result.Maps);
        var values = TestJobs.Floats(map);
        var peak = Array.IndexOf(values, values.Max());
        var (x, y) = (peak % map.Width, peak / map.Width);
        Assert.True(x >= Dog.X0 && x < Dog.X1 && y >= Dog.Y0 && y < Dog.Y1,
            $"{model}: the strongest attribution is at ({x},{y}), off the dog");
        Assert.True(values.Max() > 0, $"{model}: occluding the dog should lower the golden retriever score");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Each_shared_model_has_its_top_positive_lime_superpixel_on_the_dog(string model)
    {
        var submit = new SubmitJobRequest
        {
            Preprocessing = PreprocessingOf(model),
            Targets = new Targets { Classes = { 207 } },
            Seed = 1,
            Lime = new LimeOptions { Samples = 200, Segmentation = new Segmentation { Method = "slic", Segments = 40 } },
        };
        var result = await TestJobs.RunAsync(_node, submit,
            await File.ReadAllBytesAsync(SharedData.Model(model)), await File.ReadAllBytesAsync(SharedData.Image("golden_retriever.jpg")));

        var map = result.Maps.Single(m => m.Kind == "");
        var weights = TestJobs.Floats(map);
        var top = weights.Max();
        Assert.True(top > 0, $"{model}: no superpixel supports 'golden retriever'");
        // The centre of the superpixel with the highest weight.
        var pixels = Enumerable.Range(0, weights.Length).Where(i => weights[i] == top).ToArray();
        var (x, y) = (pixels.Average(i => i % map.Width), pixels.Average(i => i / map.Width));
        Assert.True(x >= Dog.X0 && x < Dog.X1 && y >= Dog.Y0 && y < Dog.Y1,
            $"{model}: the top LIME superpixel is centred at ({x:0},{y:0}), off the dog");
    }

    [Fact]
    public async Task An_image_the_model_does_not_recognise_is_explained_all_the_same()
    {
        // No shared model calls horses.jpg a horse (sorrel); LIME explains what it does predict.
        const string model = "mobilenetv2-12-int8.onnx";
        var submit = new SubmitJobRequest
        {
            Preprocessing = PreprocessingOf(model), Targets = new Targets { TopK = 1 }, Seed = 1,
            Lime = new LimeOptions { Samples = 100, Segmentation = new Segmentation { Method = "slic", Segments = 30 } },
        };
        var result = await TestJobs.RunAsync(_node, submit,
            await File.ReadAllBytesAsync(SharedData.Model(model)), await File.ReadAllBytesAsync(SharedData.Image("horses.jpg")));

        Assert.NotEqual(339, result.Targets[0]); // 339 = sorrel
        Assert.Equal(result.TopClasses[0].ClassIndex, result.Targets[0]);
        Assert.Contains(TestJobs.Floats(result.Maps.Single(m => m.Kind == "")), w => w != 0);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Each_shared_model_puts_its_grad_cam_peak_on_the_dog(string model)
    {
        var submit = new SubmitJobRequest
        {
            Preprocessing = PreprocessingOf(model), Targets = new Targets { TopK = 1 }, Gradient = new GradientOptions { Method = "gradcam" },
        };
        // int8 MobileNetV2 is QOperator-quantized (QLinearConv has no backward rule): its fp32 twin is differentiated instead.
        if (model == "mobilenetv2-12-int8.onnx")
        {
            var twin = await _node.Client.UploadModelAsync(
                await File.ReadAllBytesAsync(SharedData.Model("mobilenetv2-12-fp32-dequant.onnx")), "twin.onnx");
            submit.Gradient.TwinModelSha256 = twin.Sha256;
        }
        var result = await TestJobs.RunAsync(_node, submit,
            await File.ReadAllBytesAsync(SharedData.Model(model)), await File.ReadAllBytesAsync(SharedData.Image("golden_retriever.jpg")));

        Assert.Equal([207], result.Targets);
        var map = Assert.Single(result.Maps);
        var values = TestJobs.Floats(map);
        var peak = Array.IndexOf(values, values.Max());
        var (x, y) = (peak % map.Width, peak / map.Width);
        Assert.True(values.Max() > 0, $"{model}: Grad-CAM is all zero");
        Assert.True(x >= Dog.X0 && x < Dog.X1 && y >= Dog.Y0 && y < Dog.Y1, $"{model}: the Grad-CAM peak is at ({x},{y}), off the dog");
    }

    [Theory]
    [InlineData("mobilenetv2-12-fp32-dequant.onnx")]
    [InlineData("squeezenet1.0-fp32.onnx")]
    public async Task Integrated_gradients_on_a_real_model_nearly_add_up_to_the_score_difference(string model)
    {
        var submit = new SubmitJobRequest
        {
            Preprocessing = PreprocessingOf(model), Targets = new Targets { Classes = { 207 } },
            Gradient = new GradientOptions { Method = "integrated-gradients", Steps = 32 },
        };
        var result = await TestJobs.RunAsync(_node, submit,
            await File.ReadAllBytesAsync(SharedData.Model(model)), await File.ReadAllBytesAsync(SharedData.Image("golden_retriever.jpg")));

        using var summary = System.Text.Json.JsonDocument.Parse(result.SummaryJson);
        var target = summary.RootElement.GetProperty("per_target")[0];
        var difference = target.GetProperty("score_input").GetDouble() - target.GetProperty("score_baseline").GetDouble();
        var gap = target.GetProperty("completeness_gap").GetDouble();
        // 32 Gauss–Legendre points on a piecewise-linear network: a few percent is what Captum reports too.
        Assert.True(Math.Abs(gap) < 0.1 * Math.Abs(difference), $"{model}: completeness gap {gap} for f(x) − f(x0) = {difference}");
    }

    /// <summary>Each model's preprocessing as PROVENANCE.md documents it.</summary>
    /// <summary>How each shared model wants its input (shared/models/PROVENANCE.md).</summary>
    internal static Preprocessing PreprocessingOf(string model) => model.StartsWith("squeezenet")
        ? new Preprocessing
        {
            ChannelOrder = "bgr", Scale = 1, Mean = { 104, 117, 123 }, Std = { 1, 1, 1 }, Output = "probabilities",
        }
        : new Preprocessing { Output = "logits" }; // RGB/255 with ImageNet mean/std: the defaults
}
