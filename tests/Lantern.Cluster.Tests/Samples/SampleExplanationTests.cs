using System.Text.Json;
using Lantern.Cli;
using Lantern.Cli.Commands;
using Lantern.Cluster.Tests.EndToEnd;
using Lantern.Cluster.Tests.Support;
using Lantern.Imaging;
using Lantern.Samples;

namespace Lantern.Cluster.Tests.Samples;

/// <summary>
/// The README's Samples section: the commands <c>lantern samples make</c> prints, run as a user runs them, light up the
/// white rectangle that each sample model reads (LIME on the detector, Grad-CAM on the regression head and on the
/// segmenter).
/// </summary>
[Collection(CommandLineCollection.Name)]
public sealed class SampleExplanationTests
{
    private const int Size = SampleSet.Size;
    private readonly string _directory = Directory.CreateTempSubdirectory("lantern-samples-").FullName;
    private readonly TextureImages.Box _rectangle = SampleSet.Pictures[0].Rectangle!.Value;

    /// <summary>The printed command that uses <paramref name="model"/>, writing to a folder of this test.</summary>
    private async Task<string> RunPrintedCommandAsync(string model)
    {
        var folder = Path.Combine(_directory, "synthetic");
        Assert.Equal(0, await LanternCli.RunAsync(["samples", "make", folder]));
        var command = Assert.Single(SamplesCommand.Commands(folder), c => c.Contains(model + ".onnx", StringComparison.Ordinal));
        var args = command.Split(' ').Skip(1).ToArray(); // "lantern"
        var output = Path.Combine(_directory, model);
        args[Array.IndexOf(args, "--out") + 1] = output;
        Assert.Equal(0, await LanternCli.RunAsync([.. args, "--db", TestNode.TempDatabase(), "--provider", "cpu"]));
        return output;
    }

    private static float[] Map(string output, string file)
    {
        var (data, shape) = Npy.Decode(File.ReadAllBytes(Path.Combine(output, file)));
        Assert.Equal([Size, Size], shape);
        return data;
    }

    [Fact]
    public async Task Lime_on_the_detector_weighs_only_superpixels_that_overlap_the_rectangle()
    {
        var output = await RunPrintedCommandAsync(SampleSet.Detector);

        var map = Map(output, "map-1.npy");
        var mask = Map(output, "mask-1.npy");
        var max = map.Max();
        // Every pixel of a superpixel holds its weight: group the pixels by weight to see the superpixels.
        var superpixels = Enumerable.Range(0, map.Length).GroupBy(i => map[i])
            .Select(g => (Weight: g.Key, Overlaps: g.Any(i => _rectangle.Contains(i % Size, i / Size)))).ToList();
        Assert.All(superpixels.Where(s => !s.Overlaps), s => Assert.True(Math.Abs(s.Weight) < 0.05 * max,
            $"a superpixel away from the rectangle weighs {s.Weight} (max {max})"));
        for (var i = 0; i < map.Length; i++)
            if (_rectangle.Contains(i % Size, i / Size)) Assert.True(map[i] > 0.25 * max, $"rectangle pixel {i} weighs {map[i]} (max {max})");
        var masked = Enumerable.Range(0, mask.Length).Where(i => mask[i] > 0).ToList();
        Assert.True(masked.Count(i => _rectangle.Contains(i % Size, i / Size)) >= 0.9 * masked.Count,
            "the top superpixels' mask lies on the rectangle");
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal("white rectangle", summary.RootElement.GetProperty("targets")[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task Grad_cam_on_the_regression_head_lights_up_exactly_the_rectangle()
    {
        var output = await RunPrintedCommandAsync(SampleSet.AreaRegressor);

        AssertLightsUpExactlyTheRectangle(Map(output, "map-0.npy"));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var target = summary.RootElement.GetProperty("targets")[0];
        Assert.Equal(_rectangle.Width * _rectangle.Height / (double)(Size * Size), target.GetProperty("score").GetDouble(), 4);
    }

    [Fact]
    public async Task Grad_cam_on_the_segmenter_for_the_rectangle_class_lights_up_exactly_the_rectangle()
    {
        var output = await RunPrintedCommandAsync(SampleSet.Segmenter);

        AssertLightsUpExactlyTheRectangle(Map(output, "map-1-r1.npy"));
    }

    private void AssertLightsUpExactlyTheRectangle(float[] map)
    {
        for (var i = 0; i < map.Length; i++)
        {
            var (x, y) = (i % Size, i / Size);
            if (_rectangle.Contains(x, y)) Assert.True(map[i] > 0, $"({x},{y}) inside the rectangle has {map[i]}");
            else Assert.Equal(0f, map[i]);
        }
    }
}
