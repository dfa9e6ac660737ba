using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using IndexedJobPhase = Lantern.Contracts.Messages.IndexedJobPhase;
using JobIndexRow = Lantern.Contracts.Messages.JobIndexRow;
using Lantern.Coordinator.Hosting;
using Lantern.Storage;
using Microsoft.Extensions.DependencyInjection;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Retention;

/// <summary>
/// <c>serve --retention</c>: finished jobs older than the retention go as DeleteJob removes them, and so do uploads that no
/// remaining job and no registered model uses; a running job, its inputs and a registered model stay.
/// </summary>
public sealed class RetentionTests
{
    private const int Small = 16;

    private static JobIndexRow Row(string id, IndexedJobPhase phase, long finished, string model, string image) => new()
    {
        JobId = id, Phase = phase, FinishedUnixMs = finished, ModelSha256 = model, ImageSha256 = image,
    };

    [Fact]
    public void Finished_jobs_before_the_cutoff_expire_oldest_first_and_every_other_jobs_inputs_are_in_use()
    {
        var rows = new[]
        {
            Row("done-old", IndexedJobPhase.Done, 100, "m1", "i1"),
            Row("failed-old", IndexedJobPhase.Failed, 50, "m1", "i2"),
            Row("cancelled-old", IndexedJobPhase.Cancelled, 70, "m2", "i3"),
            Row("done-recent", IndexedJobPhase.Done, 5000, "m3", "i4"),
            Row("running", IndexedJobPhase.Running, 0, "m4", "i5"),
            Row("queued", IndexedJobPhase.Queued, 0, "m5", "i6"),
        };

        var (expired, inUse) = Coordinator.Retention.Retention.Plan(rows, cutoffUnixMs: 1000);

        Assert.Equal(["failed-old", "cancelled-old", "done-old"], expired);
        Assert.Equal(["i4", "i5", "i6", "m3", "m4", "m5"], inUse.Order());
    }

    [Fact]
    public void A_dataset_jobs_image_jobs_expire_only_with_it_and_hold_their_inputs_until_then()
    {
        var image = Row("image-job", IndexedJobPhase.Done, 100, "m1", "i1");
        image.ParentJobId = "ds-running";
        var rows = new[] { image, Row("ds-running", IndexedJobPhase.Running, 0, "m1", ""), Row("ds-old", IndexedJobPhase.Done, 200, "m2", "") };

        var (expired, inUse) = Coordinator.Retention.Retention.Plan(rows, cutoffUnixMs: 1000);

        Assert.Equal(["ds-old"], expired);   // deleting it deletes its image jobs
        Assert.Contains("i1", inUse);
    }

    [Fact]
    public async Task An_expired_dataset_job_is_deleted_with_its_image_jobs()
    {
        await using var node = await TestNode.StartAsync(coordinator: new CoordinatorOptions
        {
            Retention = TimeSpan.FromSeconds(3), RetentionSweepInterval = TimeSpan.FromMilliseconds(300),
        });
        var client = node.Client;
        var model = (await client.UploadModelAsync(SyntheticModels.SquareBrightness(Small, Small, (4, 4, 4, 4)), "small.onnx")).Sha256;
        var request = new CreateDatasetRequest { Name = "expiring" };
        for (var i = 0; i < 2; i++)
            request.Entries.Add(new DatasetEntry
            {
                ImageSha256 = (await client.UploadImageAsync(TestImages.Noise(Small, Small, seed: 30 + i), $"n{i}.png")).Sha256, FileName = $"n{i}.png",
            });
        await client.Datasets.CreateDatasetAsync(request);
        var jobId = (await client.Api.SubmitJobAsync(new SubmitJobRequest
        {
            ModelSha256 = model, Dataset = "expiring", Preprocessing = TestJobs.Identity(Small, Small),
            Targets = new Targets { Classes = { 0 } }, Occlusion = TestJobs.Occlusion((4, 4)),
        })).JobId;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            Assert.Equal(ApiJobState.Done, (await client.WatchAsync(jobId, _ => { }, timeout.Token)).State);
        var imageJobs = (await client.Api.GetResultAsync(new GetResultRequest { JobId = jobId })).Images.Select(i => i.JobId).ToList();

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        foreach (var id in imageJobs.Prepend(jobId))
            while (await ExistsAsync(client, id))
            {
                Assert.True(DateTime.UtcNow < deadline, $"job {id} was not deleted within a minute of expiring");
                await Task.Delay(200);
            }
    }

    [Fact]
    public void A_sweep_deletes_a_bounded_number_of_jobs_and_those_left_for_the_next_keep_their_inputs()
    {
        var rows = Enumerable.Range(0, Coordinator.Retention.Retention.MaxJobsPerSweep + 2)
            .Select(i => Row($"job-{i}", IndexedJobPhase.Done, 1 + i, $"m{i}", $"i{i}")).ToList();

        var (expired, inUse) = Coordinator.Retention.Retention.Plan(rows, cutoffUnixMs: 1_000_000);

        Assert.Equal(Coordinator.Retention.Retention.MaxJobsPerSweep, expired.Count);
        Assert.Equal("job-0", expired[0]);
        var last = Coordinator.Retention.Retention.MaxJobsPerSweep;
        Assert.Equal([$"i{last}", $"i{last + 1}", $"m{last}", $"m{last + 1}"], inUse.Order());
    }

    [Fact]
    public async Task A_node_deletes_an_expired_job_and_unused_uploads_and_keeps_a_running_job_its_inputs_and_registered_models()
    {
        await using var node = await TestNode.StartAsync(coordinator: new CoordinatorOptions
        {
            // Longer than any upload-to-submit gap of this test on a loaded machine: an upload is only deleted once unused
            // for the whole retention.
            Retention = TimeSpan.FromSeconds(5), RetentionSweepInterval = TimeSpan.FromMilliseconds(300),
        });
        var store = node.Services.GetRequiredService<IArtifactStore>();
        var client = node.Client;

        // A job that runs for minutes (1-pixel windows over 448x448): running, so neither it nor its inputs expire.
        const int Large = 448;
        var largeModel = (await client.UploadModelAsync(SyntheticModels.SquareBrightness(Large, Large, (50, 50, 100, 100)), "large.onnx")).Sha256;
        var largeImage = (await client.UploadImageAsync(TestImages.Noise(Large, Large), "large.png")).Sha256;
        var running = (await client.Api.SubmitJobAsync(new SubmitJobRequest
        {
            ModelSha256 = largeModel, ImageSha256 = largeImage, Preprocessing = TestJobs.Identity(Large, Large),
            Targets = new Targets { Classes = { 0 } }, Occlusion = TestJobs.Occlusion((1, 1)),
        })).JobId;

        var registered = await client.Models.PushModelAsync(new PushModelRequest
        {
            Name = "kept", Version = "1", Preprocessing = TestJobs.Identity(Small, Small),
            ModelSha256 = (await client.UploadModelAsync(SyntheticModels.RegionCnn(Small, Small, (2, 2, 8, 8)), "cnn.onnx")).Sha256,
        });
        var unusedImage = (await client.UploadImageAsync(TestImages.Noise(Small, Small, seed: 99), "unused.png")).Sha256;
        var smallModel = SyntheticModels.SquareBrightness(Small, Small, (4, 4, 4, 4));
        var finished = await client.RunAsync(new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Small, Small), Targets = new Targets { Classes = { 0 } }, Occlusion = TestJobs.Occlusion((4, 4)),
        }, smallModel, "small.onnx", TestImages.Noise(Small, Small, seed: 7), "small.png", _ => { });
        Assert.Equal(ApiJobState.Done, finished.Progress.State);

        // The finished job goes once it is older than the retention, as DeleteJob removes it: NOT_FOUND, and gone from the listing.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (await ExistsAsync(client, finished.Progress.JobId))
        {
            Assert.True(DateTime.UtcNow < deadline, "the expired job was not deleted within a minute");
            await Task.Delay(200);
        }
        Assert.DoesNotContain((await client.Api.ListJobsAsync(new ListJobsRequest())).Jobs, j => j.JobId == finished.Progress.JobId);
        while (await store.ExistsAsync(finished.Progress.ModelSha256) || await store.ExistsAsync(unusedImage))
        {
            Assert.True(DateTime.UtcNow < deadline, "the unused uploads were not deleted within a minute");
            await Task.Delay(200);
        }
        Assert.False(await store.ExistsAsync(finished.Progress.ImageSha256));

        // Every upload above is older than the retention by now; those in use stay.
        Assert.True(await store.ExistsAsync(largeModel));
        Assert.True(await store.ExistsAsync(largeImage));
        Assert.True(await store.ExistsAsync(registered.ModelSha256));
        Assert.Equal(ApiJobState.Running, (await client.Api.GetJobAsync(new GetJobRequest { JobId = running })).State);

        await client.Api.CancelJobAsync(new CancelJobRequest { JobId = running });
    }

    private static async Task<bool> ExistsAsync(Cli.Client.ExplainClient client, string jobId)
    {
        try
        {
            await client.Api.GetJobAsync(new GetJobRequest { JobId = jobId });
            return true;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return false;
        }
    }
}
