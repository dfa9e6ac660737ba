using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Hosting;
using Lantern.Storage;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.Extensions.Logging.Abstractions;
using Targets = Lantern.Contracts.Api.Targets;

namespace Lantern.Cluster.Tests.Worker;

/// <summary>
/// Workers evaluate a job in the batch planned for it, whatever their own largest batch, so its maps are the same on any
/// number of workers; a configured best batch overrides the sweep.
/// </summary>
public sealed class EvalBatchTests
{
    private const int Size = 32;

    private static async Task<(SqliteArtifactStore Store, JobSpec Spec)> JobAsync(byte[] model, int evalBatch)
    {
        var store = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        var spec = new JobSpec
        {
            ModelSha256 = (await store.PutAsync(model, "model")).Sha256,
            ImageSha256 = (await store.PutAsync(TestImages.Noise(Size, Size), "image")).Sha256,
            ImageWidth = Size, ImageHeight = Size, ClassCount = 2, EvalBatch = evalBatch,
            Preprocessing = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Lantern.Contracts.Messages.Preprocessing>(TestJobs.Identity(Size, Size)),
            Occlusion = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Lantern.Contracts.Messages.OcclusionOptions>(TestJobs.Occlusion((4, 4))),
        };
        return (store, spec);
    }

    private static readonly byte[] Model = SyntheticModels.SquareBrightness(Size, Size, (4, 4, 8, 8));

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public async Task An_item_runs_in_the_jobs_batch_whatever_the_workers_largest_batch(int maxBatch)
    {
        var (store, spec) = await JobAsync(Model, evalBatch: 12);
        var metrics = new WorkerMetrics();
        using var evaluator = new WorkEvaluator(store,
            new WorkerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, MaxBatch = maxBatch },
            NullLogger<WorkEvaluator>.Instance, metrics);

        var scores = await evaluator.EvaluateAsync(new WorkSpec { JobId = "j", Spec = spec, Targets = { 0, 1 } },
            new WorkItem { First = 0, Count = 36 });

        Assert.Equal(36 * 2, scores.Length);
        Assert.Equal(3, metrics.Batches); // 36 evaluations in batches of 12
    }

    [Fact]
    public async Task A_job_planned_with_a_batch_larger_than_the_session_reloads_it_larger()
    {
        var (store, spec) = await JobAsync(Model, evalBatch: 48);
        var metrics = new WorkerMetrics();
        using var evaluator = new WorkEvaluator(store, new WorkerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu },
            NullLogger<WorkEvaluator>.Instance, metrics);
        var small = spec.Clone();
        small.EvalBatch = 8;
        await evaluator.EvaluateAsync(new WorkSpec { JobId = "small", Spec = small, Targets = { 0 } }, new WorkItem { First = 0, Count = 8 });
        Assert.Equal(32, evaluator.MaxBatchOf(spec.ModelSha256));

        await evaluator.EvaluateAsync(new WorkSpec { JobId = "large", Spec = spec, Targets = { 0 } }, new WorkItem { First = 0, Count = 48 });

        Assert.Equal(48, evaluator.MaxBatchOf(spec.ModelSha256));
        Assert.Equal(2, metrics.Batches);
    }

    [Fact]
    public async Task A_configured_best_batch_overrides_the_sweep_and_the_sweep_measures_one_otherwise()
    {
        var (store, spec) = await JobAsync(Model, evalBatch: 8);
        var work = new WorkSpec { JobId = "j", Spec = spec, Targets = { 0 } };
        var sweep = new WorkerOptions
        {
            ExecutionProvider = ExecutionProviderPreference.Cpu, MaxBatch = 8, SweepBatch = true, SweepPerBatch = TimeSpan.Zero,
        };

        using (var configured = new WorkEvaluator(store, sweep with { Batch = 4 }, NullLogger<WorkEvaluator>.Instance))
        {
            await configured.EvaluateAsync(work, new WorkItem { First = 0, Count = 8 });
            Assert.Equal(4, configured.BestBatchOf(spec.ModelSha256));
        }
        using var swept = new WorkEvaluator(store, sweep, NullLogger<WorkEvaluator>.Instance);
        await swept.EvaluateAsync(work, new WorkItem { First = 0, Count = 8 });
        Assert.Contains(swept.BestBatchOf(spec.ModelSha256), BatchSweep.Candidates(8));
    }

    [Fact]
    public async Task A_job_planned_with_a_batch_gives_bit_identical_maps_on_one_and_two_workers()
    {
        var request = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0, 1 } },
            Occlusion = TestJobs.Occlusion((4, 2)),
        };
        var image = TestImages.Noise(Size, Size);
        var coordinator = new CoordinatorOptions { WorkItemSize = 16, EvalBatch = 6 };
        var maps = new List<int[]>();
        foreach (var workers in new[] { 1, 2 })
        {
            await using var node = await TestNode.StartAsync(coordinator: coordinator, worker: new WorkerOptions { Workers = workers });
            var result = await TestJobs.RunAsync(node, request, Model, image);
            Assert.NotEmpty(result.Maps);
            maps.Add([.. result.Maps.SelectMany(m => TestJobs.Floats(m)).Select(BitConverter.SingleToInt32Bits)]);
        }

        Assert.Equal(maps[0], maps[1]);
    }
}
