using Lantern.Cli;
using Lantern.Cluster.Tests.Support;
using Lantern.Imaging;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// The README's quick start with every gradient and CAM method: the shipped sample model (SqueezeNet 1.0, fp32, ending in
/// Softmax), its descriptor and the sample image, through `lantern explain` as a user runs it.
/// </summary>
[Collection(CommandLineCollection.Name)]
public sealed class QuickStartMethodTests
{
    private static readonly string Samples = Path.Combine(RepositoryRoot(), "samples");

    public static TheoryData<string> Methods() => new()
    {
        "gradcam", "gradcam++", "cam", "scorecam", "activations",
        "saliency", "gradient-x-input", "integrated-gradients", "smoothgrad", "guided-backprop",
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task The_sample_model_explains_the_sample_image_with_each_gradient_method(string method)
    {
        var output = Directory.CreateTempSubdirectory("lantern-quickstart-").FullName;

        var exitCode = await LanternCli.RunAsync(
            ["explain", Path.Combine(Samples, "golden_retriever.jpg"), "--model", Path.Combine(Samples, "squeezenet1.0.onnx"),
             "--method", method, "--steps", "8", "--smooth-samples", "3", "--out", output, "--db", TestNode.TempDatabase(), "--provider", "cpu"]);

        Assert.Equal(0, exitCode);
        Assert.True(File.Exists(Path.Combine(output, "summary.json")));
        var prefix = method == "activations" ? "activation-" : "map-207";
        var map = Directory.GetFiles(output, $"{prefix}*.npy").FirstOrDefault();
        Assert.True(map is not null, $"{method}: no {prefix}*.npy among {string.Join(", ", Directory.GetFiles(output).Select(Path.GetFileName))}");
        var (data, shape) = Npy.Decode(File.ReadAllBytes(map));
        Assert.Equal([1080, 1080], shape);
        Assert.Contains(data, v => v > 0);
        Assert.All(data, v => Assert.True(float.IsFinite(v)));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Cluster.sln above {AppContext.BaseDirectory}");
    }
}
