using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Messages;
using Lantern.Storage;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lantern.Cluster.Tests.Worker;

/// <summary>A model exported with a fixed batch of 1 is rewritten to run in batches when its graph allows it.</summary>
public sealed class FixedBatchTests
{
    private const int Size = 32;

    private static async Task<(float[] Scores, int Batch)> EvaluateAsync(byte[] model, byte[] image)
    {
        var store = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        var modelSha = (await store.PutAsync(model, "model")).Sha256;
        var spec = new JobSpec
        {
            ModelSha256 = modelSha, ImageSha256 = (await store.PutAsync(image, "image")).Sha256,
            ImageWidth = Size, ImageHeight = Size, Preprocessing = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Lantern.Contracts.Messages.Preprocessing>(TestJobs.Identity(Size, Size)), ClassCount = 2,
            Occlusion = Lantern.Gateway.Mapping.SpecMapping.ToSpec<Lantern.Contracts.Messages.OcclusionOptions>(TestJobs.Occlusion((4, 4))),
        };
        using var evaluator = new WorkEvaluator(store, new WorkerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu },
            NullLogger<WorkEvaluator>.Instance);
        var scores = await evaluator.EvaluateAsync(new WorkSpec { JobId = "j", Spec = spec, Targets = { 0, 1 } },
            new WorkItem { First = 0, Count = 64 });
        return (scores, evaluator.MaxBatchOf(modelSha));
    }

    [Fact]
    public async Task A_fixed_batch_model_runs_in_batches_and_scores_exactly_as_its_dynamic_batch_twin()
    {
        var image = TestImages.Noise(Size, Size);
        var square = (4, 4, 8, 8);

        var (fixedScores, fixedBatch) = await EvaluateAsync(SyntheticModels.SquareBrightness(Size, Size, square, fixedBatch: true), image);
        var (dynamicScores, _) = await EvaluateAsync(SyntheticModels.SquareBrightness(Size, Size, square), image);

        Assert.Equal(32, fixedBatch);
        Assert.Equal(dynamicScores, fixedScores);
    }
}
