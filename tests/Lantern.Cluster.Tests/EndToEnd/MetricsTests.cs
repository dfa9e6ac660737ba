using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Targets = Lantern.Contracts.Api.Targets;
using Xunit.Abstractions;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// Deletion and insertion metrics through the whole cluster, on a model whose right answer is known: class 0 is the mean
/// brightness of the 16×16 square at (16,16) of a 64×64 image, and the image is dark noise with that square white. The
/// faithful map is the square; deleting it first (to black) must drop the score fastest, revealing it first on the
/// blurred image must raise the score fastest.
/// </summary>
public sealed class MetricsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Size = 64;
    private static readonly (int X, int Y, int Width, int Height) Square = (16, 16, 16, 16);
    private readonly byte[] _model = SyntheticModels.SquareBrightness(Size, Size, Square);
    private readonly byte[] _image = WhiteSquareOnDarkNoise();
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(TestDatabase.Sqlite());

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task The_faithful_map_has_a_lower_deletion_auc_and_a_higher_insertion_auc_than_a_random_map_and_its_inverse()
    {
        var faithful = Map((x, y) => InSquare(x, y) ? 1 : 0);
        var random = new Random(7);
        var randomMap = Map((_, _) => random.NextSingle());
        var inverse = faithful.Select(v => -v).ToArray();

        var (faithfulDeletion, faithfulInsertion) = Aucs(await ScoreAsync(faithful));
        var (randomDeletion, randomInsertion) = Aucs(await ScoreAsync(randomMap));
        var (inverseDeletion, inverseInsertion) = Aucs(await ScoreAsync(inverse));

        output.WriteLine($"deletion AUC: faithful {faithfulDeletion:0.0}, random {randomDeletion:0.0}, inverse {inverseDeletion:0.0}");
        output.WriteLine($"insertion AUC: faithful {faithfulInsertion:0.0}, random {randomInsertion:0.0}, inverse {inverseInsertion:0.0}");
        Assert.True(faithfulDeletion < randomDeletion, $"deletion AUC faithful {faithfulDeletion} vs random {randomDeletion}");
        Assert.True(faithfulDeletion < inverseDeletion, $"deletion AUC faithful {faithfulDeletion} vs inverse {inverseDeletion}");
        Assert.True(faithfulInsertion > randomInsertion, $"insertion AUC faithful {faithfulInsertion} vs random {randomInsertion}");
        Assert.True(faithfulInsertion > inverseInsertion, $"insertion AUC faithful {faithfulInsertion} vs inverse {inverseInsertion}");
        // The square is 1/16 of the pixels: deleted first, the score is 0 from a sixteenth of the curve on.
        Assert.True(faithfulDeletion < 0.05 * inverseDeletion, $"deletion AUC faithful {faithfulDeletion} vs inverse {inverseDeletion}");
    }

    [Fact]
    public async Task Each_curve_starts_and_ends_where_its_definition_says()
    {
        var occlusion = await TestJobs.RunAsync(_node, new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0 } }, Occlusion = TestJobs.Occlusion((8, 4)),
        }, _model, _image);
        var unperturbed = occlusion.ModelScores[0];

        var target = await ScoreAsync(TestJobs.Floats(occlusion.Maps.Single(m => m.Window == 0)), steps: 16);

        var deletion = Curve(target, "deletion");
        var insertion = Curve(target, "insertion");
        Assert.Equal(17, deletion.Length);
        Assert.Equal(unperturbed, deletion[0], 1e-4);         // nothing deleted yet: the image itself
        Assert.Equal(unperturbed, insertion[^1], 1e-4);       // everything revealed: the image itself
        Assert.Equal(0f, deletion[^1], 1e-4);                 // everything black
        Assert.Equal(unperturbed, target.GetProperty("score").GetSingle(), 1e-4);
        Assert.True(insertion[0] < 0.75 * unperturbed, $"the blurred canvas keeps {insertion[0]} of {unperturbed}");
        // Occlusion's map of this model is faithful: the score falls at once under deletion and rises at once under insertion.
        Assert.True(target.GetProperty("deletion_auc").GetDouble() < target.GetProperty("insertion_auc").GetDouble());
    }

    [Fact]
    public async Task The_insertion_canvas_is_blurred_by_ten_model_input_pixels_whatever_the_image_size()
    {
        var request = await RequestAsync(new float[2 * Size * 2 * Size], 4);
        request.ImageSha256 = (await _node.Client.UploadImageAsync(TestImages.Noise(2 * Size, 2 * Size), "large.png")).Sha256;

        var result = await _node.Client.FinishAsync((await _node.Api.SubmitJobAsync(request)).JobId, _ => { });

        // Stretched from 128 to the model's 64 pixels: 10 input pixels are 20 of the image's.
        using var summary = JsonDocument.Parse(result.SummaryJson);
        var fill = summary.RootElement.GetProperty("parameters").GetProperty("insertion_fill");
        Assert.Equal("blur", fill.GetProperty("kind").GetString());
        Assert.Equal(20, fill.GetProperty("blur_sigma").GetDouble(), 1e-4);
    }

    [Theory]
    [InlineData("deletoin", "deletion, insertion")]
    [InlineData("randomization", "deletion, insertion")]
    public async Task An_unknown_metric_name_is_invalid_argument(string metric, string message)
    {
        var request = await RequestAsync(Map((_, _) => 0), 10);
        request.Metrics.Metrics.Add(metric);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await _node.Api.SubmitJobAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(message, error.Status.Detail);
    }

    [Fact]
    public async Task A_map_of_the_wrong_size_is_invalid_argument()
    {
        var request = await RequestAsync(new float[Size * Size - 1], 10);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await _node.Api.SubmitJobAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("64x64", error.Status.Detail);
    }

    private async Task<SubmitJobRequest> RequestAsync(float[] map, int steps) => new()
    {
        ModelSha256 = (await _node.Client.UploadModelAsync(_model, "model.onnx")).Sha256,
        ImageSha256 = (await _node.Client.UploadImageAsync(_image, "image.png")).Sha256,
        Preprocessing = TestJobs.Identity(Size, Size),
        NoCache = true,
        Metrics = new MetricsOptions
        {
            Steps = steps,
            Maps = { new MetricMap { TargetClass = 0, Data = ByteString.CopyFrom(MemoryMarshal.AsBytes(map.AsSpan())) } },
        },
    };

    /// <summary>Runs a metrics job for class 0 and returns its summary's per-target entry.</summary>
    private async Task<JsonElement> ScoreAsync(float[] map, int steps = 64)
    {
        var request = await RequestAsync(map, steps);
        var jobId = (await _node.Api.SubmitJobAsync(request)).JobId;
        var result = await _node.Client.FinishAsync(jobId, _ => { });
        Assert.Empty(result.Maps);
        Assert.Equal(2L * (steps + 1) + 1, result.Progress.Evaluations); // the baseline and both curves' points
        using var summary = JsonDocument.Parse(result.SummaryJson);
        return summary.RootElement.GetProperty("per_target")[0].Clone();
    }

    private static (double Deletion, double Insertion) Aucs(JsonElement target) =>
        (target.GetProperty("deletion_auc").GetDouble(), target.GetProperty("insertion_auc").GetDouble());

    private static float[] Curve(JsonElement target, string metric) =>
        [.. target.GetProperty($"{metric}_curve").EnumerateArray().Select(v => v.GetSingle())];

    private static bool InSquare(int x, int y) =>
        x >= Square.X && x < Square.X + Square.Width && y >= Square.Y && y < Square.Y + Square.Height;

    private static float[] Map(Func<int, int, float> value)
    {
        var map = new float[Size * Size];
        for (var y = 0; y < Size; y++)
        for (var x = 0; x < Size; x++)
            map[y * Size + x] = value(x, y);
        return map;
    }

    private static byte[] WhiteSquareOnDarkNoise()
    {
        var random = new Random(3);
        using var image = new Image<Rgb24>(Size, Size);
        for (var y = 0; y < Size; y++)
        for (var x = 0; x < Size; x++)
            image[x, y] = InSquare(x, y)
                ? new Rgb24(255, 255, 255)
                : new Rgb24((byte)random.Next(20, 80), (byte)random.Next(20, 80), (byte)random.Next(20, 80));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
