using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Coordinator.Hosting;
using Lantern.Coordinator.Jobs;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.EndToEnd;

/// <summary>
/// Nothing lost: a node stopped in the middle of a job and started again on the same database finishes the job,
/// does not evaluate again the work items it had finished, and produces the same map bit for bit. Specified once,
/// run on each journal backend (the subclasses at the end).
/// </summary>
public abstract class RestartTests
{
    /// <summary>A new, empty database of the backend under test.</summary>
    protected abstract Task<TestDatabase> NewDatabaseAsync();

    private const int Size = 64;
    // Small work items make many persisted steps, so the stop lands mid-job: (64-4)/1+1 = 61² = 3721 windows, 931 items.
    // A snapshot every 50 items (93: a tenth of the job), so the restarted node recovers from a snapshot and the events after it.
    private static readonly CoordinatorOptions SmallItems = new() { WorkItemSize = 4, SnapshotEveryItems = 50 };
    // A model whose evaluations cost something (about 3.5 million multiply-adds each): with a nearly free one the
    // coordinator, fast enough now, could finish the 931 items within one watch interval, before the stop.
    private readonly byte[] _model = SyntheticModels.Busy(Size, Size, channels: 32);
    private readonly byte[] _image = TestImages.Noise(Size, Size, seed: 7);

    /// <param name="method">occlusion: the score matrix is persisted and snapshotted; rise: the scores are folded into
    /// the maps' sums as they arrive, and the snapshot holds the fold (IScoreFold). Both evaluate 3721 perturbations.</param>
    private static SubmitJobRequest Request(string method)
    {
        var request = new SubmitJobRequest { Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0, 1 } } };
        if (method == "rise") request.Rise = new RiseOptions { Samples = 3721, Cells = 6 };
        else request.Occlusion = TestJobs.Occlusion((4, 1));
        return request;
    }

    [Theory]
    [InlineData("occlusion")]
    [InlineData("rise")]
    public async Task A_job_interrupted_by_a_node_restart_resumes_without_recomputing_finished_items_and_gives_the_same_map(string method)
    {
        var database = await NewDatabaseAsync();
        string jobId;
        long itemsDoneBeforeStop, itemsTotal;
        var first = await TestNode.StartAsync(database, SmallItems);
        await using (first)
        {
            var submit = Request(method);
            submit.ModelSha256 = (await first.Client.UploadModelAsync(_model, "m.onnx")).Sha256;
            submit.ImageSha256 = (await first.Client.UploadImageAsync(_image, "i.png")).Sha256;
            jobId = (await first.Api.SubmitJobAsync(submit)).JobId;

            var progress = await WaitUntilAsync(first, jobId, p => p.ItemsDone >= 40);
            Assert.Equal(JobState.Running, progress.State);
            itemsDoneBeforeStop = progress.ItemsDone;
            itemsTotal = progress.ItemsTotal;
        } // graceful stop of the whole node, mid-job
        // (read after the stop: items in flight at the stop may have finished evaluating)

        await using var second = await TestNode.StartAsync(database, SmallItems);
        var final = await second.Client.WatchAsync(jobId, _ => { });
        Assert.Equal(JobState.Done, final.State);

        // Items counted done before the stop are persisted; the restarted node evaluates at most the rest
        // (every work item but the baseline holds 4 windows).
        var remainingWindows = (itemsTotal - itemsDoneBeforeStop) * SmallItems.WorkItemSize;
        Assert.InRange(second.Evaluations, 1, remainingWindows);
        Assert.True(first.Evaluations + second.Evaluations >= 3721 + 1, "every window was evaluated by one of the two runs");
        Assert.Equal(3721 + 1, final.Evaluations); // the job counts each persisted work item once

        // The finished job's last snapshot supersedes every event before it: once the snapshot store has caught up
        // (it lags the journal on a loaded machine), one snapshot and at most the last event are left, not one per item.
        var persistenceId = JobEntity.PersistenceIdFor(jobId);
        var (snapshots, events) = (0L, 0L);
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            (snapshots, events) = (await database.RowsOfAsync("snapshot", persistenceId), await database.RowsOfAsync("journal", persistenceId));
            if (snapshots == 1 && events <= 1) break;
            await Task.Delay(100);
        }
        Assert.True(snapshots == 1 && events <= 1,
            $"{snapshots} snapshots and {events} events of the finished {itemsTotal}-item job are left in the journal");

        var resumed = await second.Api.GetResultAsync(new GetResultRequest { JobId = jobId });
        await using var fresh = await TestNode.StartAsync(await NewDatabaseAsync(), SmallItems);
        var uninterrupted = await TestJobs.RunAsync(fresh, Request(method), _model, _image);
        Assert.Equal(uninterrupted.Maps.Count, resumed.Maps.Count);
        foreach (var (expected, actual) in uninterrupted.Maps.Zip(resumed.Maps))
        {
            Assert.Equal(expected.TargetClass, actual.TargetClass);
            Assert.Equal(expected.Data, actual.Data); // bit-identical float32 bytes
        }
    }

    private static async Task<JobProgress> WaitUntilAsync(TestNode node, string jobId, Func<JobProgress, bool> condition)
    {
        JobProgress? reached = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await node.Client.WatchAsync(jobId, p =>
        {
            if (reached is null && condition(p)) reached = p;
            if (reached is not null) timeout.Cancel(); // stop watching: the condition is met
        }, timeout.Token).ContinueWith(_ => { });
        return reached ?? throw new TimeoutException($"job {jobId} never satisfied the condition");
    }
}

public sealed class RestartOnSqliteTests : RestartTests
{
    protected override Task<TestDatabase> NewDatabaseAsync() => Task.FromResult(TestDatabase.Sqlite());
}

[Collection(PostgresServer.Collection)]
public sealed class RestartOnPostgresTests(PostgresServer server) : RestartTests
{
    protected override Task<TestDatabase> NewDatabaseAsync() => TestDatabase.PostgresAsync(server);
}
