using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Worker.Hosting;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// The gradient and CAM methods through the cluster, on a CNN that only sees one region of the image
/// (<see cref="SyntheticModels.RegionCnn"/>): every method must put exactly nothing outside that region, and something
/// inside it; integrated gradients must add up to f(x) − f(x0); CAM must be Grad-CAM times the layer's pixel count.
/// </summary>
public sealed class GradientMethodTests : IAsyncLifetime
{
    private const int Size = 24;
    private static readonly (int X, int Y, int Width, int Height) Region = (4, 6, 10, 8);
    private readonly byte[] _model = SyntheticModels.RegionCnn(Size, Size, Region);
    private readonly byte[] _image = TestImages.Noise(Size, Size, seed: 5);
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static SubmitJobRequest Request(GradientOptions options, ulong seed = 3) => new()
    {
        Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0 } }, Seed = seed, Gradient = options,
    };

    private static bool Inside(int i) =>
        i % Size >= Region.X && i % Size < Region.X + Region.Width && i / Size >= Region.Y && i / Size < Region.Y + Region.Height;

    public static TheoryData<string> Methods() => new()
    {
        "saliency", "gradient-x-input", "integrated-gradients", "smoothgrad", "guided-backprop",
        "gradcam", "gradcam++", "cam", "scorecam",
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Each_method_is_zero_outside_the_region_the_model_sees_and_positive_inside(string method)
    {
        var result = await TestJobs.RunAsync(_node, Request(new GradientOptions { Method = method, SmoothSamples = 4, Steps = 8 }), _model, _image);

        var map = TestJobs.Floats(Assert.Single(result.Maps));
        Assert.Equal(Size * Size, map.Length);
        for (var i = 0; i < map.Length; i++)
        {
            if (!Inside(i)) Assert.True(map[i] == 0, $"{method}: pixel ({i % Size},{i / Size}) outside the region has {map[i]}");
        }
        Assert.True(Enumerable.Range(0, map.Length).Where(Inside).Any(i => map[i] > 0), $"{method}: nothing inside the region");
        Assert.All(map, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public async Task Integrated_gradients_add_up_to_the_score_difference_and_report_it()
    {
        var result = await TestJobs.RunAsync(_node, Request(new GradientOptions { Method = "integrated-gradients", Steps = 16 }), _model, _image);

        using var summary = JsonDocument.Parse(result.SummaryJson);
        var target = summary.RootElement.GetProperty("per_target")[0];
        var difference = target.GetProperty("score_input").GetDouble() - target.GetProperty("score_baseline").GetDouble();
        Assert.True(difference > 0.1, "the region is bright, so the class-0 score rises from the zero baseline");
        // The model is linear along the path (ReLU of non-negative features), so the quadrature is exact up to float rounding.
        Assert.True(Math.Abs(target.GetProperty("completeness_gap").GetDouble()) < 1e-3 * difference,
            $"gap {target.GetProperty("completeness_gap").GetDouble()} for f(x) − f(x0) = {difference}");
        Assert.Equal(1 + 16 + 2, result.Progress.Evaluations);
    }

    [Fact]
    public async Task Cam_equals_grad_cam_times_the_layer_pixel_count_for_a_pooled_linear_head()
    {
        var gradCam = TestJobs.Floats((await TestJobs.RunAsync(_node, Request(new GradientOptions { Method = "gradcam" }), _model, _image)).Maps[0]);
        var cam = TestJobs.Floats((await TestJobs.RunAsync(_node, Request(new GradientOptions { Method = "cam" }), _model, _image)).Maps[0]);

        for (var i = 0; i < cam.Length; i++) Assert.Equal(cam[i], gradCam[i] * Size * Size, Math.Max(1e-3, 1e-4 * Math.Abs(cam[i])));
    }

    [Fact]
    public async Task Smoothgrad_is_bit_identical_on_one_and_three_workers_and_changes_with_the_seed()
    {
        var options = new GradientOptions { Method = "smoothgrad", SmoothOver = "integrated-gradients", SmoothSamples = 3, Steps = 4 };
        await using var three = await TestNode.StartAsync(worker: new WorkerOptions { Workers = 3, MaxBatch = 2 });

        var one = TestJobs.Floats((await TestJobs.RunAsync(_node, Request(options), _model, _image)).Maps[0]);
        var many = TestJobs.Floats((await TestJobs.RunAsync(three, Request(options), _model, _image)).Maps[0]);
        var reseeded = TestJobs.Floats((await TestJobs.RunAsync(_node, Request(options, seed: 4), _model, _image)).Maps[0]);

        Assert.Equal(one, many);
        Assert.NotEqual(one, reseeded);
    }

    [Fact]
    public async Task Activations_give_the_top_channels_of_the_layer_as_maps()
    {
        var result = await TestJobs.RunAsync(_node, Request(new GradientOptions { Method = "activations", TopChannels = 2 }), _model, _image);

        Assert.Equal(2, result.Maps.Count);
        Assert.All(result.Maps, m => Assert.Equal("activation", m.Kind));
        Assert.All(result.Maps, m => Assert.InRange(m.TargetClass, 0, 3));
        var first = TestJobs.Floats(result.Maps[0]);
        Assert.True(first.Where((_, i) => !Inside(i)).All(v => v == 0), "the features are zero where the mask hides the input");
    }

    [Fact]
    public async Task A_quantized_model_without_a_backward_rule_is_refused_with_the_twin_as_the_way_out()
    {
        var model = await _node.Client.UploadModelAsync(await File.ReadAllBytesAsync(SharedData.Model("mobilenetv2-12-int8.onnx")), "int8.onnx");
        var image = await _node.Client.UploadImageAsync(await File.ReadAllBytesAsync(SharedData.Image("golden_retriever.jpg")), "dog.jpg");
        var request = new SubmitJobRequest
        {
            ModelSha256 = model.Sha256, ImageSha256 = image.Sha256, Preprocessing = new Preprocessing { Output = "logits" },
            Gradient = new GradientOptions { Method = "saliency" },
        };

        var error = await Assert.ThrowsAsync<RpcException>(async () => await _node.Api.SubmitJobAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("QLinear", error.Status.Detail);
        Assert.Contains("twin", error.Status.Detail);
    }

    [Fact]
    public async Task The_target_tensor_can_be_any_activation_named_by_the_user()
    {
        // "pooled" is [N,4,1,1]: target 1 is the mean of feature channel 1, whose 1×1 convolution weights are 0.1, 0.6, 0.2.
        var request = Request(new GradientOptions { Method = "saliency", TargetTensor = "pooled" });
        request.Targets = new Targets { Classes = { 1 } };

        var result = await TestJobs.RunAsync(_node, request, _model, _image);

        using var summary = JsonDocument.Parse(result.SummaryJson);
        Assert.Equal("pooled", summary.RootElement.GetProperty("parameters").GetProperty("gradient_target_tensor").GetString());
        var map = TestJobs.Floats(Assert.Single(result.Maps));
        for (var i = 0; i < map.Length; i++)
        {
            // d mean(relu(conv))/d pixel = max channel weight of feature 1 / pixel count, where the feature is active.
            if (!Inside(i)) Assert.Equal(0f, map[i]);
            else Assert.Equal(0.6f / (Size * Size), map[i], 1e-7f);
        }
    }

    [Theory]
    [InlineData("gradcam", "no_such_layer", "no_such_layer")]
    [InlineData("gradcam", "pooled", "spatial")]
    [InlineData("saliency", "features", "layer applies to")]
    [InlineData("warp-drive", "", "is not one of")]
    [InlineData("saliency", "", "no_such_tensor")]
    public async Task Bad_gradient_requests_are_refused_with_a_message_that_names_the_problem(string method, string layer, string message)
    {
        var model = await _node.Client.UploadModelAsync(_model, "model.onnx");
        var image = await _node.Client.UploadImageAsync(_image, "image.png");
        var request = Request(message == "no_such_tensor"
            ? new GradientOptions { Method = method, TargetTensor = "no_such_tensor" }
            : new GradientOptions { Method = method, Layer = layer });
        (request.ModelSha256, request.ImageSha256) = (model.Sha256, image.Sha256);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await _node.Api.SubmitJobAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(message, error.Status.Detail);
    }
}
