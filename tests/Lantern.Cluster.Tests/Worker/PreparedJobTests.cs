using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Messages;
using Lantern.Storage;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lantern.Cluster.Tests.Worker;

/// <summary>
/// A worker prepares a job (decodes its image, builds its perturber) once: the baseline item, which comes before the
/// targets are known, and the job's items share it, and each item's scores are those of its own targets.
/// </summary>
public sealed class PreparedJobTests
{
    private const int Size = 24;

    [Fact]
    public async Task The_baseline_and_the_items_share_one_preparation_and_each_item_scores_its_own_targets()
    {
        var store = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        // Every pixel weighs differently in every class, so a score read for the wrong class shows.
        var model = SyntheticModels.Linear(Size, Size, (k, c, y, x) => MathF.Cos(2 + k * 5 + c * 3 + y * 0.29f + x * 0.71f), classes: 3);
        var spec = new JobSpec
        {
            ModelSha256 = (await store.PutAsync(model, "model")).Sha256,
            ImageSha256 = (await store.PutAsync(TestImages.Noise(Size, Size, seed: 11), "image")).Sha256,
            ImageWidth = Size, ImageHeight = Size, ClassCount = 3,
            Preprocessing = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Preprocessing>(TestJobs.Identity(Size, Size)),
            Occlusion = Lantern.Gateway.Mapping.SpecMapping.ToSpec<OcclusionOptions>(TestJobs.Occlusion((4, 2))),
        };
        // As the job entity sends them: the baseline's work names no targets, the items' name those it resolved.
        var baselineWork = new WorkSpec { JobId = "job", Spec = spec };
        WorkSpec ItemWork(params int[] targets) => new() { JobId = "job", Spec = spec, Targets = { targets } };
        var item = new WorkItem { First = 0, Count = 30 };
        var options = new WorkerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, MaxBatch = 8 };

        using var worker = new WorkEvaluator(store, options, NullLogger<WorkEvaluator>.Instance);
        var baseline = await worker.EvaluateAsync(baselineWork, new WorkItem { Baseline = true });
        var first = await worker.EvaluateAsync(ItemWork(0, 2), item);
        var other = await worker.EvaluateAsync(ItemWork(1), item);

        Assert.Equal(3, baseline.Length);
        Assert.Equal(1, worker.JobsPrepared);
        // The same items on workers that prepared the job for them alone.
        async Task<float[]> FreshAsync(WorkSpec work)
        {
            using var fresh = new WorkEvaluator(store, options, NullLogger<WorkEvaluator>.Instance);
            return await fresh.EvaluateAsync(work, item);
        }
        Assert.Equal(await FreshAsync(ItemWork(0, 2)), first);
        Assert.Equal(await FreshAsync(ItemWork(1)), other);
        Assert.Equal(30 * 2, first.Length);
        Assert.Equal(30, other.Length);
        Assert.NotEqual(first.Where((_, i) => i % 2 == 1), other); // class 2's scores are not class 1's
    }
}
