using Akka.Actor;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Coordinator.Hosting;
using Lantern.Worker.Hosting;
using Segmentation = Lantern.Contracts.Api.Segmentation;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// LIME, KernelSHAP and RISE through the cluster. Ground truth: a 48×48 image cut into a 3×3 grid of features and a
/// linear model whose score is Σ_k w_k · mean(cell k); with hidden features set to black, switching feature k off
/// removes exactly w_k · m_k, so its Shapley value is w_k · m_k and LIME's weights rank the features the same way.
/// </summary>
public sealed class SamplingMethodTests
{
    private const int Size = 48, Cell = 16;
    private static readonly float[] CellWeights = [5f, -3f, 1f, 8f, 0.5f, -6f, 2f, 4f, -1f];
    private readonly byte[] _image = TestImages.Noise(Size, Size, seed: 3);
    private readonly byte[] _model = SyntheticModels.Linear(Size, Size,
        (k, c, y, x) => k == 0 ? CellWeights[y / Cell * 3 + x / Cell] / (3f * Cell * Cell) : 1f / (3f * Size * Size), classes: 2);

    private static readonly Segmentation Grid = new() { Method = "grid", Segments = 9 };
    private static readonly Fill Black = new() { Kind = Fill.Types.Kind.Zero };

    private SubmitJobRequest Request(Action<SubmitJobRequest> method, ulong seed = 7)
    {
        var request = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0 } }, Seed = seed,
        };
        method(request);
        return request;
    }

    /// <summary>w_k · (mean of cell k over the three channels), what the model loses when cell k turns black.</summary>
    private double[] CellContributions()
    {
        var image = Imaging.ImageDecoder.Decode(_image);
        var contributions = new double[9];
        for (var y = 0; y < Size; y++)
        for (var x = 0; x < Size; x++)
        for (var c = 0; c < 3; c++)
        {
            var k = y / Cell * 3 + x / Cell;
            contributions[k] += CellWeights[k] * image.Pixels[(y * Size + x) * 3 + c] / (3.0 * Cell * Cell);
        }
        return contributions;
    }

    [Fact]
    public async Task KernelShap_in_exact_mode_recovers_the_exact_Shapley_values_of_a_linear_model()
    {
        await using var node = await TestNode.StartAsync();
        var result = await TestJobs.RunAsync(node, Request(r => r.KernelShap = new KernelShapOptions
        {
            Samples = 600, Segmentation = Grid, Hide = Black,
        }), _model, _image);

        using var summary = System.Text.Json.JsonDocument.Parse(result.SummaryJson);
        var target = summary.RootElement.GetProperty("per_target")[0];
        Assert.True(target.GetProperty("exact").GetBoolean());
        var values = target.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var expected = CellContributions();
        for (var k = 0; k < 9; k++) Assert.Equal(expected[k], values[k], 0.01);
        // Efficiency: the values add up to f(all on) − f(all off).
        Assert.Equal(target.GetProperty("full_value").GetDouble() - target.GetProperty("base_value").GetDouble(), values.Sum(), 0.01);
        Assert.Equal(1 + 512, result.Progress.Evaluations);

        // The map paints each cell with its value.
        var map = TestJobs.Floats(result.Maps.Single());
        Assert.Equal((float)values[4], map[(Cell + 3) * Size + Cell + 5], 1e-4);
    }

    [Fact]
    public async Task Lime_ranks_the_features_as_their_true_contributions_and_reports_its_local_model()
    {
        await using var node = await TestNode.StartAsync();
        var result = await TestJobs.RunAsync(node, Request(r => r.Lime = new LimeOptions
        {
            Samples = 1000, Segmentation = Grid, Hide = Black, FeatureSelection = "none", NumFeatures = 9,
        }), _model, _image);

        using var summary = System.Text.Json.JsonDocument.Parse(result.SummaryJson);
        var target = summary.RootElement.GetProperty("per_target")[0];
        var weights = target.GetProperty("weights").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var expected = CellContributions();
        Assert.Equal(Enumerable.Range(0, 9).OrderBy(k => expected[k]), Enumerable.Range(0, 9).OrderBy(k => weights[k]));
        Assert.True(target.GetProperty("r2").GetDouble() > 0.99, "a linear model is fitted almost exactly");
        Assert.Equal(9, summary.RootElement.GetProperty("parameters").GetProperty("segmentation").GetProperty("feature_count").GetInt32());

        // A weight map and a positive-only mask of the top 5 positive features (cells 3, 0, 7, 6, 2 or so).
        var mask = TestJobs.Floats(result.Maps.Single(m => m.Kind == "mask"));
        var best = Enumerable.Range(0, 9).MaxBy(k => expected[k]);
        Assert.Equal(1f, mask[(best / 3 * Cell + 8) * Size + best % 3 * Cell + 8]);
        var worst = Enumerable.Range(0, 9).MinBy(k => expected[k]);
        Assert.Equal(0f, mask[(worst / 3 * Cell + 8) * Size + worst % 3 * Cell + 8]);
    }

    /// <param name="method">lime keeps the score matrix; rise folds each scored prefix into its maps as items arrive, in
    /// whatever order three workers finish them.</param>
    [Theory]
    [InlineData("lime")]
    [InlineData("rise")]
    public async Task The_same_seed_gives_bit_identical_maps_on_one_worker_on_three_and_after_a_worker_crash(string method)
    {
        var small = new CoordinatorOptions { WorkItemSize = 4 };
        var request = method == "rise"
            ? Request(r => r.Rise = new RiseOptions { Samples = 1200, Cells = 6 })
            : Request(r => r.Lime = new LimeOptions { Samples = 1200, Segmentation = Grid });

        await using var one = await TestNode.StartAsync(coordinator: small);
        var single = await TestJobs.RunAsync(one, request, _model, _image);

        await using var three = await TestNode.StartAsync(coordinator: small, worker: new WorkerOptions { Workers = 3 });
        var parallel = await TestJobs.RunAsync(three, request, _model, _image);
        Assert.Equal(Bytes(single), Bytes(parallel));

        // Crash one of three workers mid-job: its leases are re-issued and the result does not change.
        var submit = request.Clone();
        submit.ModelSha256 = (await three.Client.UploadModelAsync(_model, "m.onnx")).Sha256;
        submit.ImageSha256 = (await three.Client.UploadImageAsync(_image, "i.png")).Sha256;
        var jobId = (await three.Api.SubmitJobAsync(submit)).JobId;
        var crashed = false;
        var final = await three.Client.WatchAsync(jobId, progress =>
        {
            if (crashed || progress.ItemsDone < 20) return;
            three.System.ActorSelection("/user/worker-1").Tell(Kill.Instance);
            crashed = true;
        });
        Assert.True(crashed, "the job ended before a worker could be crashed");
        Assert.Equal(JobState.Done, final.State);
        var afterCrash = await three.Api.GetResultAsync(new GetResultRequest { JobId = jobId });
        Assert.Equal(Bytes(single), Bytes(afterCrash));

        var otherSeed = request.Clone();
        otherSeed.Seed = 8;
        Assert.NotEqual(Bytes(single), Bytes(await TestJobs.RunAsync(one, otherSeed, _model, _image)));
    }

    [Fact]
    public async Task Lime_with_a_stopping_rule_uses_fewer_samples_deterministically_and_keeps_the_ranking()
    {
        var request = Request(r => r.Lime = new LimeOptions
        {
            Samples = 4000, Segmentation = Grid, Hide = Black, FeatureSelection = "none", NumFeatures = 9,
            StopWhenStable = true, CheckEvery = 100, StableChecks = 3, StableTop = 3,
        });
        var small = new CoordinatorOptions { WorkItemSize = 20 };
        await using var one = await TestNode.StartAsync(coordinator: small);
        await using var three = await TestNode.StartAsync(coordinator: small, worker: new WorkerOptions { Workers = 3 });

        var first = await TestJobs.RunAsync(one, request, _model, _image);
        var second = await TestJobs.RunAsync(three, request, _model, _image);

        using var summary = System.Text.Json.JsonDocument.Parse(first.SummaryJson);
        var parameters = summary.RootElement.GetProperty("parameters");
        var used = parameters.GetProperty("perturbations_used").GetInt64();
        Assert.True(parameters.GetProperty("stopped_early").GetBoolean());
        Assert.InRange(used, 400, 3900); // at least 1 + 3 checks of 100
        Assert.Equal(0, used % 100);
        Assert.Equal(first.Progress.ItemsTotal, first.Progress.ItemsDone);
        Assert.Equal(Bytes(first), Bytes(second)); // the stop point depends on the samples, not on who computed them
        var weights = summary.RootElement.GetProperty("per_target")[0].GetProperty("weights").EnumerateArray().Select(w => w.GetDouble()).ToArray();
        var expected = CellContributions();
        Assert.Equal(Enumerable.Range(0, 9).OrderByDescending(k => expected[k]).Take(3),
            Enumerable.Range(0, 9).OrderByDescending(k => weights[k]).Take(3));
    }

    [Fact]
    public async Task Rise_is_brighter_on_the_square_the_model_looks_at_and_deterministic()
    {
        var model = SyntheticModels.SquareBrightness(Size, Size, (8, 8, 16, 16));
        var request = Request(r => r.Rise = new RiseOptions { Samples = 600, Cells = 6 });
        await using var node = await TestNode.StartAsync();

        var result = await TestJobs.RunAsync(node, request, model, _image);
        var map = TestJobs.Floats(result.Maps.Single());
        var inside = map[16 * Size + 16];
        var far = map[40 * Size + 40];
        Assert.True(inside > far, $"RISE saliency inside the square ({inside}) should exceed a far corner ({far})");
        Assert.Equal(Bytes(result), Bytes(await TestJobs.RunAsync(node, request, model, _image)));
    }

    private static byte[][] Bytes(JobResult result) => [.. result.Maps.Select(m => m.Data.ToByteArray())];
}
