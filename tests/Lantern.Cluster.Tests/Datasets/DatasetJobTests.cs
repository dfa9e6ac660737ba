using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using JobIds = Lantern.Contracts.Messages.JobIds;
using Lantern.Coordinator.Hosting;
using Lantern.Gateway.Hosting;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Datasets;

/// <summary>
/// Dataset jobs on a synthetic two-class model whose answers are known: class 0 is the mean of the image's left half,
/// class 1 of its right half, so an image bright on the left is class 0 and its occlusion map lights up on the left.
/// </summary>
public sealed class DatasetJobTests
{
    private const int Size = 32;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    internal static readonly byte[] Model = SyntheticModels.Linear(Size, Size,
        (k, _, _, x) => (k == 0 ? x < Size / 2 : x >= Size / 2) ? 1f / (3 * Size * Size / 2) : 0f, classes: 2);

    /// <summary>A bright half (left or right) and a dark one, with a little seeded noise so no two images are equal.</summary>
    internal static byte[] HalfBright(bool left, int seed, int size = Size)
    {
        var random = new Random(seed);
        using var image = new Image<Rgb24>(size, size);
        for (var y = 0; y < size; y++)
        for (var x = 0; x < size; x++)
        {
            var bright = x < size / 2 == left;
            var v = (byte)((bright ? 200 : 40) + random.Next(0, 30));
            image[x, y] = new Rgb24(v, v, v);
        }
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private static SubmitJobRequest Occlusion(string modelSha256) => new()
    {
        ModelSha256 = modelSha256,
        Preprocessing = TestJobs.Identity(Size, Size),
        Targets = new Targets { TopK = 1 },
        Occlusion = TestJobs.Occlusion((8, 4)),
        NoCache = true,
    };

    /// <summary>Uploads the images and records them as a dataset; returns their hashes in order.</summary>
    private static async Task<List<string>> CreateDatasetAsync(ExplainClient client, string name, IReadOnlyList<(string File, byte[] Png, string Label)> images)
    {
        var request = new CreateDatasetRequest { Name = name };
        var hashes = new List<string>();
        foreach (var (file, png, label) in images)
        {
            var sha = (await client.UploadImageAsync(png, file)).Sha256;
            hashes.Add(sha);
            request.Entries.Add(new DatasetEntry { ImageSha256 = sha, FileName = file, Label = label });
        }
        await client.Datasets.CreateDatasetAsync(request);
        return hashes;
    }

    private static async Task<JobProgress> WatchToEndAsync(ExplainClient client, string jobId)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        return await client.WatchAsync(jobId, _ => { }, timeout.Token);
    }

    [Fact]
    public async Task A_dataset_job_explains_each_image_as_its_own_job_would_bit_for_bit_and_indexes_its_top_class()
    {
        await using var node = await TestNode.StartAsync();
        var model = (await node.Client.UploadModelAsync(Model, "halves.onnx")).Sha256;
        var images = new List<(string File, byte[] Png, string Label)>
        {
            ("left-1.png", HalfBright(left: true, seed: 1), "0"),
            ("right-1.png", HalfBright(left: false, seed: 2), "1"),
            ("left-2.png", HalfBright(left: true, seed: 3), "0"),
            ("tiny.png", HalfBright(left: true, seed: 4, size: 6), "0"),   // smaller than the 8-pixel window: this image fails
            ("right-2.png", HalfBright(left: false, seed: 5), "1"),
        };
        var hashes = await CreateDatasetAsync(node.Client, "halves", images);

        var submit = Occlusion(model);
        submit.Dataset = "halves";
        var jobId = (await node.Api.SubmitJobAsync(submit)).JobId;
        var final = await WatchToEndAsync(node.Client, jobId);

        Assert.Equal(ApiJobState.Done, final.State);
        Assert.Equal((5, 5, 1), (final.ImagesTotal, final.ImagesDone, final.ImagesFailed));
        Assert.Equal("halves:1", final.Dataset);
        var index = await node.Api.GetResultAsync(new GetResultRequest { JobId = jobId });
        Assert.Empty(index.Maps);
        Assert.Equal(images.Select(i => i.File), index.Images.Select(i => i.FileName));

        var tiny = index.Images[3];
        Assert.Equal(ApiJobState.Failed, tiny.State);
        Assert.Contains("larger than the 6x6 image", tiny.Error);

        long evaluations = 0;
        foreach (var image in index.Images.Where(i => i.State == ApiJobState.Done))
        {
            // The model's answer is known: the bright half's class, which is also the dataset's label.
            Assert.Equal(int.Parse(image.Label), image.TopClasses[0].ClassIndex);
            Assert.Equal([image.TopClasses[0].ClassIndex], image.Targets);
            evaluations += image.Evaluations;

            var fromDataset = await node.Api.GetResultAsync(new GetResultRequest { JobId = image.JobId });
            Assert.Equal(jobId, fromDataset.Progress.ParentJobId);
            var alone = Occlusion(model);
            alone.ImageSha256 = hashes[image.Index];
            var aloneId = (await node.Api.SubmitJobAsync(alone)).JobId;
            Assert.Equal(ApiJobState.Done, (await WatchToEndAsync(node.Client, aloneId)).State);
            var single = await node.Api.GetResultAsync(new GetResultRequest { JobId = aloneId });
            var map = Assert.Single(fromDataset.Maps);
            Assert.Equal(Assert.Single(single.Maps).Data, map.Data); // bit for bit

            // And the map is right: occluding the bright half lowers its class's score.
            var values = TestJobs.Floats(map);
            var bright = image.Label == "0" ? (0, Size / 2) : (Size / 2, Size);
            var brightSum = 0.0;
            var darkSum = 0.0;
            for (var y = 0; y < Size; y++)
            for (var x = 0; x < Size; x++)
                if (x >= bright.Item1 && x < bright.Item2) brightSum += values[y * Size + x];
                else darkSum += values[y * Size + x];
            Assert.True(brightSum > 0 && brightSum > 10 * Math.Abs(darkSum), $"{image.FileName}: bright half {brightSum}, dark half {darkSum}");
        }
        Assert.Equal(evaluations, final.Evaluations);

        // Listings show the dataset job and the single-image jobs, not the dataset's image jobs, unless asked for them.
        var listed = (await node.Api.ListJobsAsync(new ListJobsRequest())).Jobs;
        var row = Assert.Single(listed, j => j.JobId == jobId);
        Assert.Equal((5L, 1L, "halves:1"), (row.ImagesTotal, row.ImagesFailed, row.Dataset));
        Assert.DoesNotContain(listed, j => j.ParentJobId.Length > 0);
        Assert.Equal(4, listed.Count(j => j.JobId != jobId));
        var children = (await node.Api.ListJobsAsync(new ListJobsRequest { ParentJobId = jobId })).Jobs;
        Assert.Equal(index.Images.Where(i => i.JobId.Length > 0).Select(i => i.JobId).Order(), children.Select(j => j.JobId).Order());
    }

    [Fact]
    public async Task A_dataset_job_and_its_image_jobs_answer_not_found_to_another_team_and_are_deleted_together()
    {
        await using var node = await TestNode.StartAsync(gateway: new GatewayOptions { RequireApiKey = true });
        var root = node.ClientWith((await node.Users.AddUserAsync("root", "ops", admin: true)).ApiKey);
        using var alice = node.ClientWith((await root.Admin.AddUserAsync(new AddUserRequest { Name = "alice", Team = "vision" })).ApiKey);
        using var carol = node.ClientWith((await root.Admin.AddUserAsync(new AddUserRequest { Name = "carol", Team = "audio" })).ApiKey);
        var model = (await alice.UploadModelAsync(Model, "halves.onnx")).Sha256;
        await CreateDatasetAsync(alice, "mine", [("a.png", HalfBright(true, 1), ""), ("b.png", HalfBright(false, 2), "")]);

        var submit = Occlusion(model);
        submit.Dataset = "mine";
        // Carol's team has no dataset of that name: the same answer as a name nobody used.
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(async () => await carol.Api.SubmitJobAsync(submit))).StatusCode);
        var jobId = (await alice.Api.SubmitJobAsync(submit)).JobId;
        Assert.Equal(ApiJobState.Done, (await WatchToEndAsync(alice, jobId)).State);
        var imageJob = (await alice.Api.GetResultAsync(new GetResultRequest { JobId = jobId })).Images[0].JobId;
        Assert.Single((await alice.Api.GetResultAsync(new GetResultRequest { JobId = imageJob })).Maps);

        foreach (var id in new[] { jobId, imageJob })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await carol.Api.GetResultAsync(new GetResultRequest { JobId = id }));
            Assert.Equal(StatusCode.NotFound, refused.StatusCode);
            Assert.Equal($"no job with id '{id}'", refused.Status.Detail);
        }
        Assert.DoesNotContain((await carol.Api.ListJobsAsync(new ListJobsRequest())).Jobs, j => j.JobId == jobId);
        Assert.Empty((await carol.Api.ListJobsAsync(new ListJobsRequest { ParentJobId = jobId })).Jobs);

        await alice.Api.DeleteJobAsync(new DeleteJobRequest { JobId = jobId });
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(async () =>
            await alice.Api.GetJobAsync(new GetJobRequest { JobId = jobId }))).StatusCode);
        await UntilAsync(async () =>
        {
            try
            {
                await alice.Api.GetJobAsync(new GetJobRequest { JobId = imageJob });
                return false;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return true;
            }
        }, "the dataset job's image job was not deleted with it");
    }

    [Fact]
    public async Task A_running_dataset_job_counts_against_the_concurrent_jobs_quota_as_one_job()
    {
        await using var node = await TestNode.StartAsync(gateway: new GatewayOptions { RequireApiKey = true });
        var root = node.ClientWith((await node.Users.AddUserAsync("root", "ops", admin: true)).ApiKey);
        using var alice = node.ClientWith((await root.Admin.AddUserAsync(new AddUserRequest { Name = "alice", Team = "vision" })).ApiKey);
        await root.Admin.SetQuotaAsync(new SetQuotaRequest { Name = "alice", Quotas = { new Quota { Name = "concurrent_jobs", Value = 1 } } });
        const int busySize = 64;
        var model = (await alice.UploadModelAsync(SyntheticModels.Busy(busySize, busySize, channels: 256), "busy.onnx")).Sha256;
        var hashes = await CreateDatasetAsync(alice, "slow",
            [.. Enumerable.Range(0, 3).Select(i => ($"s{i}.png", TestImages.Noise(busySize, busySize, seed: 300 + i), ""))]);
        var submit = new SubmitJobRequest
        {
            ModelSha256 = model, Preprocessing = TestJobs.Identity(busySize, busySize), Targets = new Targets { Classes = { 0 } },
            Occlusion = TestJobs.Occlusion((2, 1)), Dataset = "slow",
        };
        var jobId = (await alice.Api.SubmitJobAsync(submit)).JobId;

        var single = submit.Clone();
        single.Dataset = "";
        single.ImageSha256 = hashes[0];
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await alice.Api.SubmitJobAsync(single));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("concurrent_jobs", refused.Status.Detail);
        // Once it is cancelled, the next submit is admitted.
        Assert.Equal(ApiJobState.Cancelled, (await alice.Api.CancelJobAsync(new CancelJobRequest { JobId = jobId })).State);
        Assert.NotEmpty((await alice.Api.SubmitJobAsync(single)).JobId);
    }

    [Fact]
    public async Task A_dataset_job_interrupted_by_a_node_restart_finishes_every_image_without_running_a_finished_one_again()
    {
        var database = TestDatabase.Sqlite();
        // One image at a time, on a model slow enough that the restart lands between images.
        var coordinator = new CoordinatorOptions { DatasetImagesInFlight = 1 };
        const int busySize = 64;
        var busy = SyntheticModels.Busy(busySize, busySize, channels: 256);
        var images = Enumerable.Range(0, 6).Select(i => ($"n{i}.png", TestImages.Noise(busySize, busySize, seed: 100 + i), "")).ToList();
        var submit = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(busySize, busySize),
            Targets = new Targets { Classes = { 0 } },
            Occlusion = TestJobs.Occlusion((8, 4)),
            Dataset = "noise",
        };
        string jobId;
        List<(string JobId, long Evaluations)> finishedBefore;
        await using (var node = await TestNode.StartAsync(database, coordinator))
        {
            submit.ModelSha256 = (await node.Client.UploadModelAsync(busy, "busy.onnx")).Sha256;
            await CreateDatasetAsync(node.Client, "noise", images);
            jobId = (await node.Api.SubmitJobAsync(submit)).JobId;
            await UntilAsync(async () => (await node.Api.GetJobAsync(new GetJobRequest { JobId = jobId })).ImagesDone >= 2,
                "two images were not explained within two minutes");
            var before = await node.Api.GetJobAsync(new GetJobRequest { JobId = jobId });
            Assert.Equal(ApiJobState.Running, before.State); // else the restart tests nothing: make the images slower
            finishedBefore = await ImageJobsAsync(node, jobId, before.ImagesDone);
        }

        await using (var node = await TestNode.StartAsync(database, coordinator))
        {
            var final = await WatchToEndAsync(node.Client, jobId);
            Assert.Equal(ApiJobState.Done, final.State);
            Assert.Equal((6L, 0L), (final.ImagesDone, final.ImagesFailed));
            var index = await node.Api.GetResultAsync(new GetResultRequest { JobId = jobId });
            var after = index.Images.Select(i => (i.JobId, i.Evaluations)).ToList();
            // The images done before the restart keep their jobs and evaluations (nothing ran again), and every image job
            // ran exactly its plan: 1 baseline + the occlusion windows of a 64x64 image at 8/4 (15 x 15).
            Assert.Equal(finishedBefore, after.Take(finishedBefore.Count));
            Assert.All(after, image => Assert.Equal(1 + 15 * 15, image.Evaluations));
            Assert.Equal(6 * (1 + 15 * 15), final.Evaluations);
        }
    }

    [Fact]
    public async Task Cancelling_a_dataset_job_cancels_its_running_image_jobs()
    {
        await using var node = await TestNode.StartAsync();
        const int busySize = 64;
        // Each image is 63 x 63 windows on a model of ~28M multiply-adds: seconds of work even on a fast machine, so
        // none can finish between its first evaluation and the cancellation (at 4/2 on 64 channels one took 0.16 s).
        var model = (await node.Client.UploadModelAsync(SyntheticModels.Busy(busySize, busySize, channels: 256), "busy.onnx")).Sha256;
        await CreateDatasetAsync(node.Client, "slow",
            [.. Enumerable.Range(0, 3).Select(i => ($"s{i}.png", TestImages.Noise(busySize, busySize, seed: 200 + i), ""))]);
        var jobId = (await node.Api.SubmitJobAsync(new SubmitJobRequest
        {
            ModelSha256 = model, Preprocessing = TestJobs.Identity(busySize, busySize), Targets = new Targets { Classes = { 0 } },
            Occlusion = TestJobs.Occlusion((2, 1)), Dataset = "slow",
        })).JobId;
        // All three images run at once (the window is 16); their job ids follow from the dataset job's. The image job's
        // own progress, not the dataset job's (which hears from its images now and then), says when work has started.
        var imageJobs = Enumerable.Range(0, 3).Select(i => JobIds.ImageJob(jobId, i)).ToList();
        await UntilAsync(async () => (await node.Api.GetJobAsync(new GetJobRequest { JobId = imageJobs[0] })).Evaluations > 0,
            "the dataset job's first image did not start");

        var cancelled = await node.Api.CancelJobAsync(new CancelJobRequest { JobId = jobId });

        Assert.Equal(ApiJobState.Cancelled, cancelled.State);
        foreach (var imageJob in imageJobs)
        {
            JobProgress? last = null;
            await UntilAsync(async () => (last = await node.Api.GetJobAsync(new GetJobRequest { JobId = imageJob })).State == ApiJobState.Cancelled,
                () => $"image job {imageJob} was not cancelled with its dataset job: it is {last}");
        }
    }

    /// <summary>The first <paramref name="count"/> images' jobs (ids derived from the dataset job's) and their evaluations.</summary>
    private static async Task<List<(string JobId, long Evaluations)>> ImageJobsAsync(TestNode node, string jobId, long count)
    {
        var jobs = new List<(string, long)>();
        for (var i = 0; i < count; i++)
        {
            var progress = await node.Api.GetJobAsync(new GetJobRequest { JobId = JobIds.ImageJob(jobId, i) });
            Assert.Equal(ApiJobState.Done, progress.State);
            jobs.Add((progress.JobId, progress.Evaluations));
        }
        return jobs;
    }

    private static Task UntilAsync(Func<Task<bool>> condition, string failure) => UntilAsync(condition, () => failure);

    private static async Task UntilAsync(Func<Task<bool>> condition, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure());
            await Task.Delay(100);
        }
    }
}
