using System.Text.Json;
using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
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
/// Coarse-to-fine multi-scale occlusion as a real job, on the synthetic model whose class 0 is the mean brightness of
/// the 16×16 square at (16,16): only windows near the square need refining, and the map must be exactly what the
/// in-process <see cref="CoarseToFineOcclusion"/> makes of the same scores.
/// </summary>
public sealed class CoarseToFineOcclusionJobTests : IAsyncLifetime
{
    private const int Size = 64;
    private readonly byte[] _model = SyntheticModels.SquareBrightness(Size, Size, (16, 16, 16, 16));
    private readonly byte[] _image = TestImages.Noise(Size, Size);
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static SubmitJobRequest Request(bool coarseToFine, float? threshold = null)
    {
        var occlusion = TestJobs.Occlusion((16, 8), (8, 4), (4, 4));
        occlusion.CoarseToFine = coarseToFine;
        if (threshold is { } t) occlusion.RefineThreshold = t;
        return new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0 } }, Occlusion = occlusion,
        };
    }

    private static int[] Bits(JobResult result, int window) =>
        [.. TestJobs.Floats(result.Maps.Single(m => m.Window == window)).Select(BitConverter.SingleToInt32Bits)];

    [Fact]
    public async Task The_map_is_bit_identical_to_the_in_process_algorithm_with_fewer_evaluations_than_the_exact_job()
    {
        var result = await TestJobs.RunAsync(_node, Request(coarseToFine: true), _model, _image);
        var exact = await TestJobs.RunAsync(_node, Request(coarseToFine: false), _model, _image);
        var (expected, evaluated, planned) = await InProcessAsync(Request(coarseToFine: true), 0.25);

        Assert.Equal(expected.Combined[0].Select(BitConverter.SingleToInt32Bits), Bits(result, 0));
        Assert.Equal(expected.PerScale[1][0].Select(BitConverter.SingleToInt32Bits), Bits(result, 8));
        Assert.Equal(1 + evaluated, result.Progress.Evaluations);
        Assert.True(result.Progress.Evaluations < exact.Progress.Evaluations,
            $"coarse to fine took {result.Progress.Evaluations} evaluations, the exact job {exact.Progress.Evaluations}");
        Assert.Equal(result.Progress.ItemsTotal, result.Progress.ItemsDone);

        using var summary = JsonDocument.Parse(result.SummaryJson);
        var parameters = summary.RootElement.GetProperty("parameters");
        Assert.Equal("coarse-to-fine multi-scale occlusion", summary.RootElement.GetProperty("method").GetString());
        Assert.Equal(evaluated, parameters.GetProperty("windows_evaluated").GetInt64());
        Assert.Equal(planned, parameters.GetProperty("windows_total").GetInt64());
        Assert.Equal(0.25, parameters.GetProperty("refine_threshold").GetDouble());
    }

    [Fact]
    public async Task Threshold_zero_gives_the_exact_multi_scale_maps_bit_for_bit()
    {
        var zero = await TestJobs.RunAsync(_node, Request(coarseToFine: true, threshold: 0), _model, _image);
        var exact = await TestJobs.RunAsync(_node, Request(coarseToFine: false), _model, _image);

        foreach (var window in new[] { 0, 16, 8, 4 }) Assert.Equal(Bits(exact, window), Bits(zero, window));
        Assert.Equal(exact.Progress.Evaluations, zero.Progress.Evaluations);
    }

    [Fact]
    public async Task One_and_three_workers_give_bit_identical_maps()
    {
        await using var three = await TestNode.StartAsync(worker: new WorkerOptions { Workers = 3 });

        var one = await TestJobs.RunAsync(_node, Request(coarseToFine: true), _model, _image);
        var many = await TestJobs.RunAsync(three, Request(coarseToFine: true), _model, _image);

        foreach (var window in new[] { 0, 16, 8, 4 }) Assert.Equal(Bits(one, window), Bits(many, window));
        Assert.Equal(one.Progress.Evaluations, many.Progress.Evaluations);
    }

    [Theory]
    [InlineData(1f, "refine_threshold")]
    [InlineData(-0.1f, "refine_threshold")]
    public async Task A_threshold_outside_0_to_1_is_an_invalid_argument(float threshold, string mention)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => TestJobs.RunAsync(_node, Request(true, threshold), _model, _image));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(mention, error.Status.Detail);
    }

    [Fact]
    public async Task Coarse_to_fine_with_one_window_is_an_invalid_argument()
    {
        var request = Request(coarseToFine: true);
        request.Occlusion.Windows.RemoveAt(1);
        request.Occlusion.Windows.RemoveAt(1);

        var error = await Assert.ThrowsAsync<RpcException>(() => TestJobs.RunAsync(_node, request, _model, _image));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("at least 2 windows", error.Status.Detail);
    }

    /// <summary>
    /// The reference: every window scored by the worker's evaluator in-process, then the algorithm given the scores of
    /// the windows it asks for, step by step.
    /// </summary>
    private async Task<(OcclusionMaps Maps, long Evaluated, long Planned)> InProcessAsync(SubmitJobRequest request, double threshold)
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
        var work = new WorkSpec { JobId = "reference", Spec = spec, Targets = { 0 } };
        var baseline = await evaluator.EvaluateAsync(work, new WorkItem { Baseline = true });
        var plan = OcclusionPlan.Create(Size, Size, spec.Occlusion.Windows.ToExplainers());
        var scores = new List<float>();
        for (long first = 0; first < plan.WindowCount; first += 16)
            scores.AddRange(await evaluator.EvaluateAsync(work, new WorkItem { First = first, Count = (int)Math.Min(16, plan.WindowCount - first) }));

        var c2f = new CoarseToFineOcclusion(plan, [baseline[0]], threshold);
        for (var step = 0; step < c2f.Steps; step++)
        {
            var needed = c2f.Needed(step);
            c2f.Record(step, needed, [.. needed.Select(i => scores[(int)i])]);
        }
        return (c2f.Assemble(), c2f.Evaluated, plan.WindowCount);
    }
}
