using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Messages;
using Lantern.Storage;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lantern.Cluster.Tests.Worker;

/// <summary>
/// A worker's time inside its items splits into the model's session runs and getting each batch's inputs ready, so an
/// operator (and the bench) can see how much of it the model had: the evaluator counts both, /metrics carries them, and
/// both lie inside the busy time the worker reports.
/// </summary>
public sealed class WorkerTimeTests
{
    private const int Size = 32;

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // inputs written ahead: the wait for them is what counts
    public async Task An_items_time_splits_into_model_runs_and_input_writing_inside_the_busy_time(bool pipeline)
    {
        var store = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        var spec = new JobSpec
        {
            ModelSha256 = (await store.PutAsync(SyntheticModels.SquareBrightness(Size, Size, (4, 4, 8, 8)), "model")).Sha256,
            ImageSha256 = (await store.PutAsync(TestImages.Noise(Size, Size), "image")).Sha256,
            ImageWidth = Size, ImageHeight = Size, ClassCount = 2, EvalBatch = 8,
            Preprocessing = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Preprocessing>(TestJobs.Identity(Size, Size)),
            Occlusion = Lantern.Gateway.Mapping.SpecMapping.ToSpec<OcclusionOptions>(TestJobs.Occlusion((4, 4))),
        };
        var work = new WorkSpec { JobId = "j", Spec = spec, Targets = { 0, 1 } };
        var metrics = new WorkerMetrics();
        using var evaluator = new WorkEvaluator(store,
            new WorkerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, MaxBatch = 8, Pipeline = pipeline },
            NullLogger<WorkEvaluator>.Instance, metrics);

        await evaluator.EvaluateAsync(work, new WorkItem { Baseline = true });
        Assert.Equal((0.0, 0.0), (evaluator.RunSeconds, evaluator.InputSeconds)); // a baseline is no perturbation batch

        await evaluator.EvaluateAsync(work, new WorkItem { First = 0, Count = 32 }, (work, new WorkItem { First = 32, Count = 17 }));
        await evaluator.EvaluateAsync(work, new WorkItem { First = 32, Count = 17 });

        Assert.Equal(7, metrics.Batches); // 32 and 17 windows in batches of 8
        Assert.True(evaluator.RunSeconds > 0 && evaluator.InputSeconds > 0, $"run {evaluator.RunSeconds} s, input {evaluator.InputSeconds} s");
        Assert.Equal(evaluator.RunSeconds, metrics.RunSeconds, 1e-9);
        Assert.Equal(evaluator.InputSeconds, metrics.InputSeconds, 1e-9);
        Assert.True(metrics.RunSeconds + metrics.InputSeconds <= metrics.BusySeconds,
            $"run {metrics.RunSeconds} s + input {metrics.InputSeconds} s over busy {metrics.BusySeconds} s");
    }
}
