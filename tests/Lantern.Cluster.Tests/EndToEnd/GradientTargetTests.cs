using System.Text.Json;
using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// Targets beyond classification: an output index of a regression head, and a class's scores summed over a region of
/// a segmentation output (MATLAB's gradCAM does both). Ground truth from synthetic models where each output reads
/// known pixels only.
/// </summary>
public sealed class GradientTargetTests : IAsyncLifetime
{
    private const int Size = 24;
    private readonly byte[] _image = TestImages.Noise(Size, Size, seed: 9);
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Saliency_of_a_regression_output_lights_only_the_pixels_that_output_reads()
    {
        // Three regression outputs, output k = mean of the k-th horizontal band of 8 rows.
        var model = SyntheticModels.Linear(Size, Size, (k, _, y, _) => y / 8 == k ? 1f / (3 * 8 * Size) : 0f, classes: 3);
        var submit = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 1 } },
            Gradient = new GradientOptions { Method = "saliency" },
        };

        var map = TestJobs.Floats(Assert.Single((await TestJobs.RunAsync(_node, submit, model, _image)).Maps));

        for (var i = 0; i < map.Length; i++)
        {
            var band = i / Size / 8;
            if (band == 1) Assert.Equal(1f / (3 * 8 * Size), map[i], 1e-9f);
            else Assert.Equal(0f, map[i]);
        }
    }

    [Theory]
    [InlineData("saliency")]
    [InlineData("integrated-gradients")]
    public async Task A_segmentation_region_target_is_explained_inside_its_region_only(string method)
    {
        var region = new Region { ClassIndex = 1, X = 5, Y = 3, Width = 7, Height = 9 };
        var submit = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Regions = { region } },
            Gradient = new GradientOptions { Method = method, Steps = 8 },
        };

        var result = await TestJobs.RunAsync(_node, submit, SyntheticModels.PixelSegmenter(Size, Size), _image);

        var map = Assert.Single(result.Maps);
        Assert.Equal((1, 1), (map.TargetClass, map.Region));
        Assert.Equal([-1], result.Targets);
        var values = TestJobs.Floats(map);
        for (var i = 0; i < values.Length; i++)
        {
            var (x, y) = (i % Size, i / Size);
            var inside = x >= 5 && x < 12 && y >= 3 && y < 12;
            if (inside) Assert.True(values[i] > 0, $"({x},{y}) inside the region has {values[i]}");
            else Assert.Equal(0f, values[i]);
        }
        using var summary = JsonDocument.Parse(result.SummaryJson);
        var target = summary.RootElement.GetProperty("targets")[0];
        Assert.Equal(1, target.GetProperty("class").GetInt32());
        Assert.Equal(7, target.GetProperty("region").GetProperty("width").GetInt32());
        Assert.True(target.GetProperty("score").GetDouble() > 0, "the region's summed class-1 score of a bright image");
    }

    [Fact]
    public async Task Grad_cam_of_a_whole_map_region_runs_on_the_segmenter_feature_layer()
    {
        var submit = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Regions = { new Region { ClassIndex = 0 } } },
            Gradient = new GradientOptions { Method = "gradcam" },
        };

        var result = await TestJobs.RunAsync(_node, submit, SyntheticModels.PixelSegmenter(Size, Size), _image);

        var values = TestJobs.Floats(Assert.Single(result.Maps));
        Assert.True(values.Max() > 0);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData(20, 20, 10, 10, "does not lie inside")]
    [InlineData(0, 0, 0, 0, "classes")] // class 5 of 2
    public async Task Bad_regions_are_refused(int x, int y, int width, int height, string message)
    {
        var model = await _node.Client.UploadModelAsync(SyntheticModels.PixelSegmenter(Size, Size), "seg.onnx");
        var image = await _node.Client.UploadImageAsync(_image, "image.png");
        var region = new Region { ClassIndex = message == "classes" ? 5 : 1, X = x, Y = y, Width = width, Height = height };
        var submit = new SubmitJobRequest
        {
            ModelSha256 = model.Sha256, ImageSha256 = image.Sha256, Preprocessing = TestJobs.Identity(Size, Size),
            Targets = new Targets { Regions = { region } }, Gradient = new GradientOptions { Method = "saliency" },
        };

        var error = await Assert.ThrowsAsync<RpcException>(async () => await _node.Api.SubmitJobAsync(submit));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(message, error.Status.Detail);
    }

    [Fact]
    public async Task Region_targets_are_refused_for_a_sampling_method_and_for_a_classifier()
    {
        var segmenter = await _node.Client.UploadModelAsync(SyntheticModels.PixelSegmenter(Size, Size), "seg.onnx");
        var classifier = await _node.Client.UploadModelAsync(SyntheticModels.RegionCnn(Size, Size, (0, 0, 8, 8)), "cnn.onnx");
        var image = await _node.Client.UploadImageAsync(_image, "image.png");
        var regions = new Targets { Regions = { new Region { ClassIndex = 0 } } };

        var occlusion = await Assert.ThrowsAsync<RpcException>(async () => await _node.Api.SubmitJobAsync(new SubmitJobRequest
        {
            ModelSha256 = segmenter.Sha256, ImageSha256 = image.Sha256, Preprocessing = TestJobs.Identity(Size, Size),
            Targets = regions, Occlusion = TestJobs.Occlusion((8, 8)),
        }));
        var onClassifier = await Assert.ThrowsAsync<RpcException>(async () => await _node.Api.SubmitJobAsync(new SubmitJobRequest
        {
            ModelSha256 = classifier.Sha256, ImageSha256 = image.Sha256, Preprocessing = TestJobs.Identity(Size, Size),
            Targets = regions, Gradient = new GradientOptions { Method = "saliency" },
        }));

        Assert.Contains("gradient methods", occlusion.Status.Detail);
        Assert.Contains("segmentation output", onClassifier.Status.Detail);
    }
}
