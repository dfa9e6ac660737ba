using System.Text.Json;
using Lantern.Cli;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary><c>lantern explain --metrics deletion,insertion</c>: the metrics job after the attribution job, merged into summary.json.</summary>
[Collection(CommandLineCollection.Name)]
public sealed class MetricsCliTests
{
    private const int Size = 48;
    private readonly string _directory = Directory.CreateTempSubdirectory("lantern-metrics-").FullName;

    private (string Model, string Image) WriteInputs()
    {
        var model = Path.Combine(_directory, "square.onnx");
        File.WriteAllBytes(model, SyntheticModels.SquareBrightness(Size, Size, (8, 8, 12, 12)));
        File.WriteAllText(Path.ChangeExtension(model, ".json"), """
            { "resize": "stretch", "scale": 1, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "logits" }
            """);
        var image = Path.Combine(_directory, "noise.png");
        File.WriteAllBytes(image, TestImages.Noise(Size, Size));
        return (model, image);
    }

    [Fact]
    public async Task Explain_with_metrics_adds_each_targets_aucs_to_the_summary_and_writes_its_curve_picture()
    {
        var (model, image) = WriteInputs();
        await using var node = await TestNode.StartAsync();
        var output = Path.Combine(_directory, "out");

        var exitCode = await LanternCli.RunAsync(
            ["explain", image, "--model", model, "--window", "8", "--stride", "4", "--classes", "0", "--metrics", "deletion,insertion",
             "--metric-steps", "20", "--gateway", node.Address.ToString(), "--out", output]);

        Assert.Equal(0, exitCode);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var root = summary.RootElement;
        Assert.Equal("occlusion", root.GetProperty("method").GetString()); // still the attribution job's summary
        var target = root.GetProperty("targets")[0];
        var unperturbed = target.GetProperty("score").GetDouble();
        var deletionAuc = target.GetProperty("deletion_auc").GetDouble();
        Assert.InRange(deletionAuc, 0, unperturbed); // deleting to black only darkens the square
        Assert.True(target.TryGetProperty("insertion_auc", out _));
        var metrics = root.GetProperty("metrics");
        Assert.Equal(2 * 21 + 1, metrics.GetProperty("evaluations").GetInt64());
        var curve = metrics.GetProperty("per_target")[0].GetProperty("deletion_curve");
        Assert.Equal(21, curve.GetArrayLength());
        Assert.Equal(unperturbed, curve[0].GetDouble(), 1e-4);
        var png = File.ReadAllBytes(Path.Combine(output, "metrics-0.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Theory]
    [InlineData("--metrics", "deletoin")]
    [InlineData("--metrics", "deletion,deletion")]
    [InlineData("--randomization-steps", "2")]
    [InlineData("--metric-steps", "20")]
    public async Task Explain_refuses_unknown_metrics_before_any_cluster_starts(string option, string value)
    {
        var (model, image) = WriteInputs();
        var database = Path.Combine(_directory, "never", "lantern.db");

        var exitCode = await LanternCli.RunAsync(
            ["explain", image, "--model", model, "--out", Path.Combine(_directory, "bad"), "--db", database, option, value]);

        Assert.Equal(2, exitCode);
        Assert.False(Directory.Exists(Path.GetDirectoryName(database)), "no node started: its database was never created");
    }

    [Fact]
    public async Task Explain_with_the_randomization_check_reruns_the_job_on_cascaded_random_models_and_reports_the_rank_correlations()
    {
        // Two parameterised layers (a 1x1 convolution, then the Gemm head): a cascade of two steps re-draws the head, then both.
        var model = Path.Combine(_directory, "region.onnx");
        File.WriteAllBytes(model, SyntheticModels.RegionCnn(Size, Size, (8, 8, 24, 24)));
        File.WriteAllText(Path.ChangeExtension(model, ".json"), """
            { "resize": "stretch", "scale": 1, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "logits" }
            """);
        var image = Path.Combine(_directory, "noise.png");
        File.WriteAllBytes(image, TestImages.Noise(Size, Size, seed: 9));
        await using var node = await TestNode.StartAsync();
        var output = Path.Combine(_directory, "randomized");

        Assert.Equal(0, await LanternCli.RunAsync(
            ["explain", image, "--model", model, "--window", "8", "--stride", "4", "--classes", "0", "--metrics", "randomization",
             "--randomization-steps", "2", "--seed", "4", "--gateway", node.Address.ToString(), "--out", output]));

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var root = summary.RootElement;
        Assert.Equal("occlusion", root.GetProperty("method").GetString());
        Assert.Equal(2, root.GetProperty("randomization").GetProperty("layers").GetArrayLength());
        var steps = root.GetProperty("targets")[0].GetProperty("randomization").EnumerateArray().ToList();
        Assert.Equal([1, 2], steps.Select(s => s.GetProperty("layers_randomized").GetInt32()));
        foreach (var step in steps)
        {
            Assert.InRange(step.GetProperty("spearman").GetDouble(), -1, 1);
            Assert.InRange(step.GetProperty("spearman_abs").GetDouble(), -1, 1);
        }
        // With every layer re-drawn the map is another map: were the weights left alone, it would be the same (1 exactly).
        Assert.True(steps[^1].GetProperty("spearman").GetDouble() < 0.99, steps[^1].ToString());
        var png = File.ReadAllBytes(Path.Combine(output, "randomization-0.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }
}
