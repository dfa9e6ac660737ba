using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using JobState = Lantern.Contracts.Api.JobState;
using Lantern.Contracts.Messages;
using Targets = Lantern.Contracts.Api.Targets;
using Lantern.Explainers.Occlusion;
using Lantern.Methods;
using Lantern.Storage;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// Occlusion through the whole cluster over a real loopback gRPC port, on a synthetic model whose right answer is
/// known by construction: class 0 = mean brightness of the 16×16 square at (16,16) of a 64×64 image. Specified once,
/// run on each journal and artifact backend (the subclasses at the end).
/// </summary>
public abstract class SyntheticOcclusionTests : IAsyncLifetime
{
    private const int Size = 64;
    private static readonly (int X, int Y, int Width, int Height) Square = (16, 16, 16, 16);
    private readonly byte[] _model = SyntheticModels.SquareBrightness(Size, Size, Square);
    private readonly byte[] _image = TestImages.Noise(Size, Size);
    private TestNode _node = null!;

    /// <summary>A new, empty database of the backend under test.</summary>
    protected abstract Task<TestDatabase> NewDatabaseAsync();

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(await NewDatabaseAsync());

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private SubmitJobRequest Request(params (int Window, int Stride)[] scales) => new()
    {
        Preprocessing = TestJobs.Identity(Size, Size),
        Targets = new Targets { Classes = { 0 } },
        Occlusion = TestJobs.Occlusion(scales),
    };

    [Fact]
    public async Task The_map_is_positive_inside_the_square_the_model_looks_at_and_exactly_zero_where_no_window_reaches_it()
    {
        var result = await TestJobs.RunAsync(_node, Request((8, 4)), _model, _image);

        var map = TestJobs.Floats(Assert.Single(result.Maps));
        Assert.Equal((Size, Size), (result.Maps[0].Height, result.Maps[0].Width));
        for (var y = 0; y < Size; y++)
        for (var x = 0; x < Size; x++)
        {
            var value = map[y * Size + x];
            var inside = x >= Square.X && x < Square.X + Square.Width && y >= Square.Y && y < Square.Y + Square.Height;
            // A window (8 wide) covering x overlaps the square [16,32) only when 8 < x < 39.
            var unreachable = x <= 8 || x >= 39 || y <= 8 || y >= 39;
            if (inside) Assert.True(value > 0, $"pixel ({x},{y}) inside the square has attribution {value}");
            if (unreachable) Assert.Equal(0f, value);
        }
        Assert.Equal(1 + 15 * 15, result.Progress.Evaluations); // baseline + (64-8)/4+1 squared windows
    }

    [Fact]
    public async Task The_cluster_map_is_bit_identical_to_evaluating_and_assembling_in_process()
    {
        var result = await TestJobs.RunAsync(_node, Request((8, 4)), _model, _image);
        var expected = await InProcessMapAsync(result, Request((8, 4)));

        var actual = TestJobs.Floats(result.Maps[0]);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public async Task Multi_scale_returns_each_scale_and_their_max_normalised_average()
    {
        var result = await TestJobs.RunAsync(_node, Request((8, 4), (16, 8)), _model, _image);

        var combined = TestJobs.Floats(result.Maps.Single(m => m.Window == 0));
        var perScale = new[] { 8, 16 }.Select(w => TestJobs.Floats(result.Maps.Single(m => m.Window == w))).ToArray();
        for (var i = 0; i < combined.Length; i++)
        {
            var direct = perScale.Average(map => map[i] / map.Max(Math.Abs));
            Assert.Equal(direct, combined[i], 1e-6);
        }
        Assert.Equal(1 + 15 * 15 + 7 * 7, result.Progress.Evaluations);
    }

    [Fact]
    public async Task Watching_streams_progress_from_queued_to_done_without_going_backwards()
    {
        // Big enough (16 window sizes at stride 1, ~53,000 evaluations: seconds of work) that it cannot be done before the
        // watch's first poll; a small job can be, and then the first message is rightly Done (CI saw it after the control
        // plane got faster).
        var submit = Request([.. Enumerable.Range(1, 16).Select(window => (window, 1))]);
        submit.ModelSha256 = (await _node.Client.UploadModelAsync(_model, "m.onnx")).Sha256;
        submit.ImageSha256 = (await _node.Client.UploadImageAsync(_image, "i.png")).Sha256;
        var jobId = (await _node.Api.SubmitJobAsync(submit)).JobId;

        var seen = new List<JobProgress>();
        await _node.Client.WatchAsync(jobId, seen.Add);

        Assert.Contains(seen[0].State, new[] { JobState.Queued, JobState.Running });
        Assert.Equal(JobState.Done, seen[^1].State);
        Assert.Equal(seen[^1].ItemsTotal, seen[^1].ItemsDone);
        Assert.All(seen.Zip(seen.Skip(1)), pair => Assert.True(pair.Item2.ItemsDone >= pair.Item1.ItemsDone));

        // Re-attaching to a finished job by id answers at once with its final state.
        var again = new List<JobProgress>();
        await _node.Client.WatchAsync(jobId, again.Add);
        Assert.Equal(JobState.Done, Assert.Single(again).State);
    }

    [Fact]
    public async Task The_result_carries_model_scores_top_classes_overlays_and_a_summary()
    {
        var result = await TestJobs.RunAsync(_node, Request((8, 4)), _model, _image);

        Assert.Equal(2, result.ModelScores.Count);
        Assert.Equal([0], result.Targets);
        Assert.Equal(2, result.TopClasses.Count);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, result.Maps[0].OverlayPng.Span[..4].ToArray());
        using var summary = System.Text.Json.JsonDocument.Parse(result.SummaryJson);
        Assert.Equal(226, summary.RootElement.GetProperty("evaluations").GetInt64());
        Assert.Equal("occlusion", summary.RootElement.GetProperty("method").GetString());
    }

    [Fact]
    public async Task Each_map_of_a_result_gets_the_overlay_of_its_own_values()
    {
        // Three different maps (two scales and their combination), drawn together: each overlay must be its own map's.
        var result = await TestJobs.RunAsync(_node, Request((8, 4), (16, 8)), _model, _image);
        var plain = new Contracts.Api.OverlayStyle { Plain = true };
        var drawn = await _node.Api.GetResultAsync(new GetResultRequest { JobId = result.Progress.JobId, IncludeOverlays = true, OverlayStyle = plain });

        var image = Lantern.Imaging.ImageDecoder.Decode(_image);
        var style = Lantern.Gateway.Mapping.JobResultMapping.ToStyle(plain, "occlusion");
        Assert.Equal(3, drawn.Maps.Count);
        Assert.Equal(3, drawn.Maps.Select(m => Convert.ToHexString(m.OverlayPng.ToByteArray())).Distinct().Count());
        foreach (var map in drawn.Maps)
            Assert.Equal(Lantern.Imaging.AttributionPictures.Overlay(image, TestJobs.Floats(map), style), map.OverlayPng.ToByteArray());
    }

    /// <summary>The same job computed without the cluster: the worker's evaluator on each work item, then the assembler.</summary>
    private async Task<float[]> InProcessMapAsync(JobResult result, SubmitJobRequest request)
    {
        var store = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        var spec = new JobSpec
        {
            ModelSha256 = (await store.PutAsync(_model, "model")).Sha256,
            ImageSha256 = (await store.PutAsync(_image, "image")).Sha256,
            ImageWidth = Size, ImageHeight = Size, Preprocessing = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Lantern.Contracts.Messages.Preprocessing>(request.Preprocessing), Targets = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Lantern.Contracts.Messages.Targets>(request.Targets),
            ClassCount = 2, Occlusion = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Lantern.Contracts.Messages.OcclusionOptions>(request.Occlusion),
        };
        using var evaluator = new WorkEvaluator(store, new WorkerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu },
            NullLogger<WorkEvaluator>.Instance);
        var work = new WorkSpec { JobId = "reference", Spec = spec, Targets = { result.Targets } };
        var baseline = await evaluator.EvaluateAsync(work, new WorkItem { Baseline = true });
        var plan = OcclusionPlan.Create(Size, Size, spec.Occlusion.Windows.ToExplainers());
        var size = new Coordinator.Hosting.CoordinatorOptions().WorkItemSize;
        var scores = new List<float>();
        for (long first = 0; first < plan.WindowCount; first += size)
            scores.AddRange(await evaluator.EvaluateAsync(work, new WorkItem { First = first, Count = (int)Math.Min(size, plan.WindowCount - first) }));
        var maps = OcclusionAssembler.Assemble(plan, [baseline[0]], [.. scores], 1);
        return maps.Combined[0];
    }
}

public sealed class SyntheticOcclusionOnSqliteTests : SyntheticOcclusionTests
{
    protected override Task<TestDatabase> NewDatabaseAsync() => Task.FromResult(TestDatabase.Sqlite());
}

[Collection(PostgresServer.Collection)]
public sealed class SyntheticOcclusionOnPostgresTests(PostgresServer server) : SyntheticOcclusionTests
{
    protected override Task<TestDatabase> NewDatabaseAsync() => TestDatabase.PostgresAsync(server);
}
