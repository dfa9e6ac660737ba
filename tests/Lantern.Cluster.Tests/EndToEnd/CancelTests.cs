using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Worker.Hosting;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// Cancel frees capacity at once: the dispatcher withdraws the job's leases and tells the worker, which terminates the
/// running batch (ONNX Runtime's terminate flag) instead of running the item to its end, and takes the next job's work.
/// </summary>
public sealed class CancelTests
{
    [Fact]
    public async Task Cancelling_a_job_terminates_its_running_batch_and_the_worker_goes_on_to_the_next_job()
    {
        // A real network on a large image in batches of 4: each item (32 windows) is 8 model runs of real work, and the
        // job is 12 items, so a cancel sent once the first batch is done lands while one of the job's items is running.
        await using var node = await TestNode.StartAsync(worker: new WorkerOptions { MaxBatch = 4 });
        var slow = new SubmitJobRequest
        {
            Preprocessing = new Preprocessing
            {
                ChannelOrder = "bgr", Scale = 1, Mean = { 104, 117, 123 }, Std = { 1, 1, 1 }, Output = "probabilities",
            },
            Targets = new Targets { Classes = { 207 } },
            Occlusion = TestJobs.Occlusion((108, 54)), // 19 × 19 windows over the 1080 × 1080 image
        };
        slow.ModelSha256 = (await node.Client.UploadModelAsync(
            await File.ReadAllBytesAsync(SharedData.Model("squeezenet1.0-fp32.onnx")), "squeezenet.onnx")).Sha256;
        slow.ImageSha256 = (await node.Client.UploadImageAsync(
            await File.ReadAllBytesAsync(SharedData.Image("golden_retriever.jpg")), "dog.jpg")).Sha256;
        var slowJob = (await node.Api.SubmitJobAsync(slow)).JobId;

        await WaitUntilAsync(() => node.Evaluations >= 1 + 4, "the baseline and the first batch of 4 were not evaluated");
        Assert.Equal(0, node.RunsTerminated);
        var cancelled = await node.Api.CancelJobAsync(new CancelJobRequest { JobId = slowJob });
        Assert.Equal(JobState.Cancelled, cancelled.State);

        await WaitUntilAsync(() => node.RunsTerminated > 0, "the running batch of the cancelled job was not terminated");
        Assert.Equal(1, node.RunsTerminated); // the one running item; its queued leases were dropped unrun

        // The only worker is free for the next job (a small synthetic one); the cancelled job stays cancelled.
        const int size = 32;
        var next = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(size, size),
            Targets = new Targets { Classes = { 0 } },
            Occlusion = TestJobs.Occlusion((4, 4)),
        };
        var result = await TestJobs.RunAsync(node, next, SyntheticModels.SquareBrightness(size, size, (8, 8, 16, 16)),
            TestImages.Noise(size, size, seed: 3));
        Assert.NotEmpty(result.Maps);
        Assert.Equal(JobState.Cancelled, (await node.Api.GetJobAsync(new GetJobRequest { JobId = slowJob })).State);
        Assert.Equal(1, node.RunsTerminated);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!condition())
        {
            if (timeout.IsCancellationRequested) throw new TimeoutException(failure);
            await Task.Delay(10, CancellationToken.None); // polls a condition; no outcome depends on the interval
        }
    }
}
