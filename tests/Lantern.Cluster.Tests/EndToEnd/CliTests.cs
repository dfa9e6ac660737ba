using System.Text.Json;
using Lantern.Cli;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Imaging;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// <c>lantern explain</c> as a user runs it: a model file with its descriptor beside it, an image file, an output
/// directory; the command starts its own one-node cluster and writes summary.json, maps and overlays.
/// </summary>
[Collection(CommandLineCollection.Name)]
public sealed class CliTests
{
    private const int Size = 48;
    private readonly string _directory = Directory.CreateTempSubdirectory("lantern-cli-").FullName;

    private (string Model, string Image) WriteInputs()
    {
        var model = Path.Combine(_directory, "square.onnx");
        File.WriteAllBytes(model, SyntheticModels.SquareBrightness(Size, Size, (8, 8, 12, 12)));
        File.WriteAllText(Path.ChangeExtension(model, ".json"), """
            { "resize": "stretch", "scale": 1, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "logits", "labels": "labels.txt" }
            """);
        File.WriteAllLines(Path.Combine(_directory, "labels.txt"), ["bright square", "the rest"]);
        var image = Path.Combine(_directory, "noise.png");
        File.WriteAllBytes(image, TestImages.Noise(Size, Size));
        return (model, image);
    }

    [Fact]
    public async Task Explain_writes_summary_maps_per_scale_and_overlays_for_a_multi_scale_job()
    {
        var (model, image) = WriteInputs();
        var output = Path.Combine(_directory, "out");

        var exitCode = await LanternCli.RunAsync(
            ["explain", image, "--model", model, "--method", "occlusion", "--windows", "8,16", "--classes", "0",
             "--out", output, "--db", TestNode.TempDatabase(), "--provider", "cpu"]);

        Assert.Equal(0, exitCode);
        foreach (var file in new[] { "summary.json", "map-0.npy", "map-0-w8.npy", "map-0-w16.npy", "overlay-0.png", "sheet-0.png" })
            Assert.True(File.Exists(Path.Combine(output, file)), $"{file} was not written");
        var (data, shape) = Npy.Decode(File.ReadAllBytes(Path.Combine(output, "map-0.npy")));
        Assert.Equal([Size, Size], shape);
        Assert.True(data[10 * Size + 10] > 0, "the square the model looks at lights up");
        Assert.Equal(0f, data[40 * Size + 40]);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var root = summary.RootElement;
        Assert.Equal("multi-scale occlusion", root.GetProperty("method").GetString());
        Assert.Equal("bright square", root.GetProperty("targets")[0].GetProperty("label").GetString());
        Assert.Equal(1 + 11 * 11 + 5 * 5, root.GetProperty("evaluations").GetInt64());
        Assert.Equal(2, root.GetProperty("parameters").GetProperty("windows").GetArrayLength());
    }

    [Fact]
    public async Task Explain_runs_grad_cam_and_inspect_lists_the_model_layers()
    {
        var model = Path.Combine(_directory, "region.onnx");
        File.WriteAllBytes(model, SyntheticModels.RegionCnn(Size, Size, (8, 8, 12, 12)));
        File.WriteAllText(Path.ChangeExtension(model, ".json"), """
            { "resize": "stretch", "scale": 1, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "logits" }
            """);
        var image = Path.Combine(_directory, "noise.png");
        File.WriteAllBytes(image, TestImages.Noise(Size, Size));
        var output = Path.Combine(_directory, "gradcam");

        Assert.Equal(0, await LanternCli.RunAsync(["inspect", model]));
        Assert.Equal(2, await LanternCli.RunAsync(["inspect", image])); // not an ONNX file: a clear error, exit code 2
        var exitCode = await LanternCli.RunAsync(
            ["explain", image, "--model", model, "--method", "gradcam", "--classes", "0",
             "--out", output, "--db", TestNode.TempDatabase(), "--provider", "cpu"]);

        Assert.Equal(0, exitCode);
        foreach (var file in new[] { "summary.json", "map-0.npy", "overlay-0.png" })
            Assert.True(File.Exists(Path.Combine(output, file)), $"{file} was not written");
        var (data, _) = Npy.Decode(File.ReadAllBytes(Path.Combine(output, "map-0.npy")));
        Assert.True(data[12 * Size + 12] > 0, "the region the model sees lights up");
        Assert.Equal(0f, data[40 * Size + 40]);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(SyntheticModels.FeatureLayer, summary.RootElement.GetProperty("parameters").GetProperty("layer").GetString());
    }

    [Fact]
    public async Task Explain_deep_dream_needs_no_image_and_writes_each_class_dream_with_its_score_curve()
    {
        var (model, image) = WriteInputs();
        var output = Path.Combine(_directory, "dream");
        var database = TestNode.TempDatabase();

        Assert.Equal(2, await LanternCli.RunAsync( // a dream from the image needs the image
            ["explain", "--model", model, "--method", "deep-dream", "--dream-start", "image", "--out", output, "--db", database]));
        Assert.Equal(2, await LanternCli.RunAsync( // dream options on another method are a mistake, not ignored
            ["explain", image, "--model", model, "--method", "gradcam", "--octaves", "2", "--out", output, "--db", database]));
        var exitCode = await LanternCli.RunAsync(
            ["explain", "--model", model, "--method", "deep-dream", "--classes", "0,1", "--octaves", "2", "--iterations", "10",
             "--seed", "5", "--out", output, "--db", database, "--provider", "cpu"]);

        Assert.Equal(0, exitCode);
        var squareMeans = new List<(double Inside, double Outside)>();
        foreach (var target in new[] { 0, 1 })
        {
            using var png = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(Path.Combine(output, $"dream-{target}.png"));
            Assert.Equal((Size, Size), (png.Width, png.Height));
            var (data, shape) = Npy.Decode(File.ReadAllBytes(Path.Combine(output, $"dream-{target}.npy")));
            Assert.Equal([Size, Size, 3], shape);
            var inSquare = Enumerable.Range(0, Size * Size).ToLookup(p => p % Size is >= 8 and < 20 && p / Size is >= 8 and < 20, p => (double)data[3 * p]);
            squareMeans.Add((inSquare[true].Average(), inSquare[false].Average()));
            Assert.Equal(png[0, 0].R, (byte)Math.Round(data[0] * 255)); // the PNG is the array's first channel
        }
        Assert.True(squareMeans[0].Inside > squareMeans[0].Outside, "class 0 (the bright square) is dreamt brightest in the square");
        Assert.True(squareMeans[1].Outside > squareMeans[1].Inside, "class 1 (the rest) is dreamt brightest outside it");
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal("deep-dream", summary.RootElement.GetProperty("method").GetString());
        foreach (var target in summary.RootElement.GetProperty("per_target").EnumerateArray())
        {
            Assert.Equal(2 * 10 + 1, target.GetProperty("scores").GetArrayLength());
            Assert.True(target.GetProperty("gain").GetDouble() > 1.3, $"class {target.GetProperty("class")}: gain {target.GetProperty("gain")}");
        }
    }

    [Fact]
    public async Task Explain_with_gateway_runs_the_job_on_a_running_node()
    {
        var (model, image) = WriteInputs();
        var output = Path.Combine(_directory, "remote");
        await using var node = await TestNode.StartAsync();

        var exitCode = await LanternCli.RunAsync(
            ["explain", image, "--model", model, "--window", "12", "--stride", "6", "--classes", "0", "--out", output,
             "--gateway", node.Address.ToString()]);

        Assert.Equal(0, exitCode);
        Assert.Equal(1 + 7 * 7, node.Evaluations); // the node's own worker did the work
        Assert.True(File.Exists(Path.Combine(output, "map-0.npy")));
    }

    [Fact]
    public async Task Explain_asked_again_is_answered_from_the_first_result_and_no_cache_computes_afresh()
    {
        var (model, image) = WriteInputs();
        await using var node = await TestNode.StartAsync();
        async Task<JsonElement> ExplainAsync(string output, params string[] extra)
        {
            Assert.Equal(0, await LanternCli.RunAsync(
            [
                "explain", image, "--model", model, "--window", "12", "--stride", "6", "--classes", "0", "--out",
                Path.Combine(_directory, output), "--gateway", node.Address.ToString(), .. extra,
            ]));
            return JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_directory, output, "summary.json"))).RootElement;
        }

        var first = await ExplainAsync("first");
        var afterFirst = node.Evaluations;
        var again = await ExplainAsync("again");
        var afterAgain = node.Evaluations;
        var fresh = await ExplainAsync("fresh", "--no-cache");

        Assert.Equal(1 + 7 * 7, afterFirst);
        Assert.Equal(afterFirst, afterAgain); // the second run evaluated nothing
        Assert.Equal(first.GetProperty("job_id").GetString(), again.GetProperty("reused").GetProperty("job_id").GetString());
        Assert.False(fresh.TryGetProperty("reused", out _));
        Assert.Equal(2 * afterFirst, node.Evaluations);
        foreach (var run in new[] { "again", "fresh" })
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_directory, "first", "map-0.npy")),
                await File.ReadAllBytesAsync(Path.Combine(_directory, run, "map-0.npy")));
    }

    [Fact]
    public async Task Explain_with_a_window_larger_than_the_image_fails_with_a_message_and_no_output()
    {
        var (model, image) = WriteInputs();
        var output = Path.Combine(_directory, "bad");

        var exitCode = await LanternCli.RunAsync(
            ["explain", image, "--model", model, "--window", "64", "--out", output, "--db", TestNode.TempDatabase(), "--provider", "cpu"]);

        Assert.NotEqual(0, exitCode);
        Assert.False(Directory.Exists(output));
    }

    [Theory]
    [InlineData("--stride", "0")]
    [InlineData("--window", "0x8")]
    [InlineData("--samples", "0")]
    [InlineData("--top-k", "0")]
    [InlineData("--detach", null)]
    public async Task Explain_refuses_obviously_invalid_options_before_any_cluster_starts(string option, string? value)
    {
        var (model, image) = WriteInputs();
        var database = Path.Combine(_directory, "never", "lantern.db");

        string[] args = ["explain", image, "--model", model, "--out", Path.Combine(_directory, "bad"), "--db", database, option];
        var exitCode = await LanternCli.RunAsync(value is null ? args : [.. args, value]);

        Assert.Equal(2, exitCode);
        Assert.False(Directory.Exists(Path.GetDirectoryName(database)), "no node started: its database was never created");
    }

    [Fact]
    public async Task Explain_with_detach_prints_the_job_id_and_returns_while_the_job_runs_on()
    {
        var (model, image) = WriteInputs();
        await using var node = await TestNode.StartAsync();
        var printed = new StringWriter();
        var console = Console.Out;
        Console.SetOut(printed);
        int exitCode;
        try
        {
            exitCode = await LanternCli.RunAsync(
                ["explain", image, "--model", model, "--window", "12", "--stride", "6", "--classes", "0", "--detach",
                 "--gateway", node.Address.ToString(), "--out", Path.Combine(_directory, "detached")]);
        }
        finally
        {
            Console.SetOut(console);
        }

        Assert.Equal(0, exitCode);
        // Console.Out is the process's: a node of a test running beside this one may log a line into it meanwhile.
        var jobId = Assert.Single(printed.ToString().Split('\n', StringSplitOptions.TrimEntries),
            line => System.Text.RegularExpressions.Regex.IsMatch(line, "^[0-9a-f]{32}$"));
        Assert.False(Directory.Exists(Path.Combine(_directory, "detached")), "a detached run writes no result");
        var final = await node.Client.WatchAsync(jobId, _ => { });
        Assert.Equal(Contracts.Api.JobState.Done, final.State);
        Assert.Equal(1 + 7 * 7, final.Evaluations);
    }
}
