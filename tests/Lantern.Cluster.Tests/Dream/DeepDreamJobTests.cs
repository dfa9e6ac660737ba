using System.Text.Json;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Xunit.Abstractions;
using Targets = Lantern.Contracts.Api.Targets;

namespace Lantern.Cluster.Tests.Dream;

/// <summary>
/// Deep dream as a job through the cluster: one work item per target, each the whole ascent, with the dream and its
/// score curve in the result. On the square-brightness model (class 0 = mean of a square's pixels, class 1 = mean of the
/// rest) a dream from a dark image must raise each class's score threefold, by brightening where that class looks; on
/// the region CNN a channel of its feature layer must be dreamt towards a threefold mean activation.
/// </summary>
public sealed class DeepDreamJobTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Size = 24;
    private const byte Dark = 40;
    private static readonly (int X, int Y, int Width, int Height) Square = (6, 6, 8, 8);
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static SubmitJobRequest Request(DeepDreamOptions dream, Targets? targets, ulong seed = 0) => new()
    {
        Preprocessing = TestJobs.Identity(Size, Size), Targets = targets, Seed = seed, DeepDream = dream,
    };

    private static bool In((int X, int Y, int Width, int Height) r, int pixel) =>
        pixel % Size >= r.X && pixel % Size < r.X + r.Width && pixel / Size >= r.Y && pixel / Size < r.Y + r.Height;

    /// <summary>Mean of the dream's RGB values (0..1) over the pixels inside, and outside, the rectangle.</summary>
    private static (double Inside, double Outside) Brightness(AttributionMap map, (int X, int Y, int Width, int Height) r)
    {
        var rgb = TestJobs.Floats(map);
        Assert.Equal(Size * Size * 3, rgb.Length);
        var pixels = Enumerable.Range(0, Size * Size).ToLookup(p => In(r, p), p => (rgb[3 * p] + rgb[3 * p + 1] + rgb[3 * p + 2]) / 3.0);
        return (pixels[true].Average(), pixels[false].Average());
    }

    [Fact]
    public async Task Each_class_is_dreamt_by_its_own_work_item_to_three_times_its_score_where_the_class_looks()
    {
        var result = await TestJobs.RunAsync(_node, Request(new DeepDreamOptions { Start = "image" }, new Targets { Classes = { 0, 1 } }),
            SyntheticModels.SquareBrightness(Size, Size, Square), TestImages.Grey(Size, Size, Dark));

        Assert.Equal(JobState.Done, result.Progress.State);
        Assert.Equal(1 + 2, result.Progress.Evaluations); // the baseline, then one work item per target
        Assert.All(result.Maps, m => Assert.Equal(("dream", Size, Size), (m.Kind, m.Height, m.Width)));
        Assert.Equal([0, 1], result.Maps.Select(m => m.TargetClass));
        var square = Brightness(result.Maps[0], Square);
        var rest = Brightness(result.Maps[1], Square);
        output.WriteLine($"class 0's dream: square {square.Inside:F2}, rest {square.Outside:F2}; class 1's: square {rest.Inside:F2}, rest {rest.Outside:F2}");
        Assert.True(square.Inside > square.Outside + 0.2, "class 0 looks at the square: its dream is brighter there");
        // Blur, the coarse octaves' low-pass and the pull to mid-grey brighten the small square in class 1's dream too.
        Assert.True(rest.Outside > rest.Inside, "class 1 looks at the rest: its dream is brightest there");

        using var summary = JsonDocument.Parse(result.SummaryJson);
        Assert.Equal("deep-dream", summary.RootElement.GetProperty("method").GetString());
        foreach (var target in summary.RootElement.GetProperty("per_target").EnumerateArray())
        {
            var scores = target.GetProperty("scores").EnumerateArray().Select(s => s.GetDouble()).ToArray();
            Assert.Equal(3 * 20 + 1, scores.Length); // default octaves × iterations, then the final image
            Assert.Equal(Dark, scores[0], 3);       // the start is the image: each class's score is its mean pixel
            Assert.True(target.GetProperty("gain").GetDouble() >= 3,
                $"class {target.GetProperty("class")} rose from {scores[0]:F1} to {scores[^1]:F1} only");
            Assert.Equal(scores[^1] / scores[0], target.GetProperty("gain").GetDouble(), 4);
        }
    }

    [Fact]
    public async Task The_same_seed_dreams_a_bit_identical_image_and_another_seed_another()
    {
        var model = SyntheticModels.SquareBrightness(Size, Size, Square);
        var image = TestImages.Noise(Size, Size);
        var dream = new DeepDreamOptions { Octaves = 2, Iterations = 5 };
        var classes = new Targets { Classes = { 0 } };
        var first = await TestJobs.RunAsync(_node, Request(dream, classes, seed: 11), model, image);
        var again = await TestJobs.RunAsync(_node, Request(dream, classes, seed: 11), model, image);
        var other = await TestJobs.RunAsync(_node, Request(dream, classes, seed: 12), model, image);

        Assert.Equal(TestJobs.Floats(first.Maps[0]), TestJobs.Floats(again.Maps[0]));
        Assert.NotEqual(TestJobs.Floats(first.Maps[0]), TestJobs.Floats(other.Maps[0]));
    }

    [Fact]
    public async Task Channels_of_a_layer_are_dreamt_to_three_times_their_mean_activation_inside_the_region_the_layer_sees()
    {
        var region = (X: 4, Y: 6, Width: 10, Height: 8);
        var result = await TestJobs.RunAsync(_node,
            Request(new DeepDreamOptions { Start = "image", Channel = $"{SyntheticModels.FeatureLayer}:0,2" }, targets: null),
            SyntheticModels.RegionCnn(Size, Size, region), TestImages.Grey(Size, Size, Dark));

        Assert.Equal(JobState.Done, result.Progress.State);
        Assert.Equal([0, 2], result.Maps.Select(m => m.TargetClass));
        Assert.Equal($"{SyntheticModels.FeatureLayer} channel 2", result.Maps[1].Label);
        foreach (var map in result.Maps)
        {
            var (inside, outside) = Brightness(map, region);
            output.WriteLine($"channel {map.TargetClass}: region {inside:F2}, rest {outside:F2}");
            Assert.True(inside > outside + 0.2, $"channel {map.TargetClass} sees only the region: its dream is brighter there");
        }
        using var summary = JsonDocument.Parse(result.SummaryJson);
        foreach (var target in summary.RootElement.GetProperty("per_target").EnumerateArray())
        {
            Assert.Equal(SyntheticModels.FeatureLayer, target.GetProperty("layer").GetString());
            Assert.True(target.GetProperty("gain").GetDouble() >= 3,
                $"channel {target.GetProperty("channel")}'s mean activation rose by {target.GetProperty("gain").GetDouble():F2} only");
        }
    }
}
