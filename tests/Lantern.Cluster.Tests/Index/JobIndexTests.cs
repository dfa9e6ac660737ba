using Akka.Actor;
using Akka.Cluster.Sharding;
using Lantern.Cluster.Tests.Support;
using Lantern.Coordinator.Hosting;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Microsoft.Data.Sqlite;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Index;

/// <summary>ListJobs answers from the job index: every job, paged and filtered, the same after a restart.</summary>
public sealed class JobIndexTests
{
    private const int Size = 16;
    private readonly byte[] _model = SyntheticModels.SquareBrightness(Size, Size, (4, 4, 8, 8));
    private readonly byte[] _image = TestImages.Noise(Size, Size, seed: 3);

    private async Task<List<string>> RunJobsAsync(TestNode node, int count)
    {
        var model = (await node.Client.UploadModelAsync(_model, "m.onnx")).Sha256;
        var image = (await node.Client.UploadImageAsync(_image, "i.png")).Sha256;
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var submit = new SubmitJobRequest
            {
                ModelSha256 = model, ImageSha256 = image, Name = $"job {i}",
                Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0 } },
                Occlusion = TestJobs.Occlusion((8, 8)),
                NoCache = true, // each one computed: the listing shows what computed jobs record
            };
            var id = (await node.Api.SubmitJobAsync(submit)).JobId;
            Assert.Equal(JobState.Done, (await node.Client.WatchAsync(id, _ => { })).State);
            ids.Add(id);
        }
        return ids;
    }

    private static async Task<List<JobProgress>> ListAllAsync(TestNode node, ListJobsRequest request)
    {
        var all = new List<JobProgress>();
        do
        {
            var page = await node.Api.ListJobsAsync(request);
            all.AddRange(page.Jobs);
            request = request.Clone();
            request.PageToken = page.NextPageToken;
        } while (request.PageToken.Length > 0);
        return all;
    }

    /// <summary>The index learns of a job's end a moment after the job does; wait for what the listing should say.</summary>
    private static async Task<List<JobProgress>> ListWhenAsync(TestNode node, Func<List<JobProgress>, bool> ready)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var jobs = await ListAllAsync(node, new ListJobsRequest());
            if (ready(jobs) || DateTime.UtcNow > deadline) return jobs;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Listing_pages_and_filters_every_job_and_stays_the_same_after_a_restart()
    {
        var database = TestDatabase.Sqlite();
        List<string> ids;
        List<JobProgress> before;
        await using (var node = await TestNode.StartAsync(database))
        {
            ids = await RunJobsAsync(node, 5);
            before = await ListWhenAsync(node, jobs => jobs.Count == 5 && jobs.All(j => j.State == JobState.Done));
            Assert.Equal(Enumerable.Reverse(ids), before.Select(j => j.JobId)); // newest first
            Assert.All(before, j =>
            {
                Assert.Equal("occlusion", j.Method);
                Assert.Equal(j.ItemsTotal, j.ItemsDone);
                Assert.Equal(5, j.Evaluations); // the baseline and 2x2 windows
                Assert.Equal(j.Evaluations, j.EvaluationsTotal);
                Assert.True(j.FinishedUnixMs >= j.SubmittedUnixMs);
            });

            var paged = await ListAllAsync(node, new ListJobsRequest { PageSize = 2 });
            Assert.Equal(before.Select(j => j.JobId), paged.Select(j => j.JobId));
            Assert.Equal(2, (await node.Api.ListJobsAsync(new ListJobsRequest { PageSize = 2 })).Jobs.Count);

            Assert.Empty((await node.Api.ListJobsAsync(new ListJobsRequest { States = { JobState.Running, JobState.Failed } })).Jobs);
            Assert.Empty((await node.Api.ListJobsAsync(new ListJobsRequest { ModelSha256 = new string('0', 64) })).Jobs);
            var window = await node.Api.ListJobsAsync(new ListJobsRequest
            {
                SubmittedAfterUnixMs = before[3].SubmittedUnixMs, SubmittedBeforeUnixMs = before[1].SubmittedUnixMs,
            });
            Assert.Subset(before.Skip(1).Take(3).Select(j => j.JobId).ToHashSet(), window.Jobs.Select(j => j.JobId).ToHashSet());
            Assert.Contains(before[3].JobId, window.Jobs.Select(j => j.JobId));
            Assert.DoesNotContain(before[0].JobId, window.Jobs.Select(j => j.JobId));
        }

        await using (var restarted = await TestNode.StartAsync(database))
        {
            var after = await ListAllAsync(restarted, new ListJobsRequest());
            Assert.Equal(before.Select(j => (j.JobId, j.State, j.ItemsDone, j.Evaluations, j.FinishedUnixMs)),
                after.Select(j => (j.JobId, j.State, j.ItemsDone, j.Evaluations, j.FinishedUnixMs)));
        }
    }

    [Fact]
    public async Task Jobs_in_a_journal_written_before_the_index_existed_are_listed_after_the_upgrade()
    {
        var database = TestDatabase.Sqlite();
        List<string> ids;
        // Finished jobs leave memory (and the sharding's remembered entities) quickly, so nothing wakes them on the
        // restart but the index's backfill from the journal.
        // The older version took no snapshots either, so every job's events are still in the journal.
        var quickToLeave = new CoordinatorOptions { FinishedJobIdleTimeout = TimeSpan.FromMilliseconds(100), SnapshotEveryItems = 0 };
        await using (var node = await TestNode.StartAsync(database, quickToLeave))
        {
            ids = await RunJobsAsync(node, 3);
            await ListWhenAsync(node, jobs => jobs.Count(j => j.State == JobState.Done) == 3);
            var region = ClusterSharding.Get(node.System).ShardRegion("job");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance)).Shards.Any(s => s.EntityIds.Count > 0))
            {
                Assert.True(DateTime.UtcNow < deadline, "finished jobs did not passivate");
                await Task.Delay(50);
            }
        }
        // What an older version left: the jobs' events, and no index.
        await using (var connection = new SqliteConnection($"Data Source={database.SqlitePath}"))
        {
            await connection.OpenAsync();
            var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM journal WHERE persistence_id = 'job-index'; DELETE FROM snapshot WHERE persistence_id = 'job-index';";
            Assert.True(await command.ExecuteNonQueryAsync() > 0);
        }

        await using var upgraded = await TestNode.StartAsync(database);
        var listed = await ListWhenAsync(upgraded, jobs => jobs.Count(j => j.State == JobState.Done) == 3);
        Assert.Equal(ids.Order(), listed.Where(j => j.State == JobState.Done).Select(j => j.JobId).Order());
    }

    [Fact]
    public async Task A_page_token_the_server_never_gave_is_invalid_argument()
    {
        await using var node = await TestNode.StartAsync();
        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await node.Api.ListJobsAsync(new ListJobsRequest { PageToken = "%%%" }));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, error.StatusCode);
        error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await node.Api.ListJobsAsync(new ListJobsRequest { PageSize = -1 }));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task A_deleted_job_answers_not_found_everywhere_leaves_the_listing_and_stays_deleted_after_a_restart()
    {
        var database = TestDatabase.Sqlite();
        string deleted, kept;
        await using (var node = await TestNode.StartAsync(database))
        {
            var ids = await RunJobsAsync(node, 2);
            (deleted, kept) = (ids[0], ids[1]);
            await ListWhenAsync(node, jobs => jobs.Count(j => j.State == JobState.Done) == 2);

            await node.Api.DeleteJobAsync(new DeleteJobRequest { JobId = deleted });

            foreach (var call in new Func<Task>[]
            {
                async () => await node.Api.GetJobAsync(new GetJobRequest { JobId = deleted }),
                async () => await node.Api.GetResultAsync(new GetResultRequest { JobId = deleted }),
                async () => await node.Api.CancelJobAsync(new CancelJobRequest { JobId = deleted }),
                async () => await node.Api.DeleteJobAsync(new DeleteJobRequest { JobId = deleted }),
                async () => await node.Api.DeleteJobAsync(new DeleteJobRequest { JobId = new string('f', 32) }),
            })
            {
                var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(call);
                Assert.Equal(Grpc.Core.StatusCode.NotFound, error.StatusCode);
            }
            var listed = await ListWhenAsync(node, jobs => jobs.All(j => j.JobId != deleted));
            Assert.Equal([kept], listed.Select(j => j.JobId));
        }
        await using var restarted = await TestNode.StartAsync(database);
        var again = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await restarted.Api.GetJobAsync(new GetJobRequest { JobId = deleted }));
        Assert.Equal(Grpc.Core.StatusCode.NotFound, again.StatusCode);
        Assert.Equal(JobState.Done, (await restarted.Api.GetJobAsync(new GetJobRequest { JobId = kept })).State);
        Assert.Equal([kept], (await ListAllAsync(restarted, new ListJobsRequest())).Select(j => j.JobId));
    }
}
