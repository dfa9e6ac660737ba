using System.Text.Json.Nodes;
using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Sharing;

/// <summary>
/// Nothing computed twice: a job with the same inputs as a finished job (model, image, method and parameters, targets,
/// preprocessing, seed) is answered from its stored result at once, for whoever may use those inputs, as that user's own
/// job. Each test uses its own seed, so its jobs share a memo key with no other test's.
/// </summary>
public sealed class ResultReuseTests(SharedNodeFixture fixture) : IClassFixture<SharedNodeFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static DateTime Deadline() => DateTime.UtcNow + Timeout;

    private SubmitJobRequest Request(ulong seed, string name = "job")
    {
        var request = fixture.Submit(name);
        request.Seed = seed;
        return request;
    }

    private sealed record Run(string JobId, JobResult Result, long WorkerEvaluations)
    {
        public JsonObject Summary => JsonNode.Parse(Result.SummaryJson)!.AsObject();
        public JsonNode? Reused => Summary["reused"];
    }

    /// <summary>Submits, waits for the job to end, reads its result and counts what the node's worker evaluated meanwhile.</summary>
    private async Task<Run> RunAsync(ExplainClient client, SubmitJobRequest request)
    {
        var before = fixture.Node.Evaluations;
        var jobId = (await client.Api.SubmitJobAsync(request, deadline: Deadline())).JobId;
        using var timeout = new CancellationTokenSource(Timeout);
        Assert.Equal(ApiJobState.Done, (await client.WatchAsync(jobId, _ => { }, timeout.Token)).State);
        var result = await client.Api.GetResultAsync(new GetResultRequest { JobId = jobId }, deadline: Deadline());
        return new Run(jobId, result, fixture.Node.Evaluations - before);
    }

    private static IEnumerable<byte[]> Maps(Run run) => run.Result.Maps.Select(m => m.Data.ToByteArray());

    [Fact]
    public async Task A_repeated_job_returns_the_identical_maps_at_once_says_it_was_reused_and_evaluates_nothing()
    {
        var first = await RunAsync(fixture.Alice, Request(seed: 101, name: "first"));
        var again = await RunAsync(fixture.Alice, Request(seed: 101, name: "again"));

        Assert.True(first.WorkerEvaluations >= 1 + 16, $"the first job evaluated {first.WorkerEvaluations}");
        Assert.Null(first.Reused);
        Assert.Equal(0, again.WorkerEvaluations);
        Assert.NotEqual(first.JobId, again.JobId);
        Assert.Equal(Maps(first), Maps(again)); // bit for bit
        Assert.Equal(first.Result.ModelScores, again.Result.ModelScores);
        Assert.Equal(first.Result.Targets, again.Result.Targets);
        Assert.Equal(first.JobId, again.Reused!["job_id"]!.GetValue<string>());
        Assert.Equal(again.JobId, again.Summary["job_id"]!.GetValue<string>());
        Assert.Equal("again", again.Summary["name"]!.GetValue<string>());
        Assert.Equal(0, again.Summary["evaluations"]!.GetValue<long>());
        Assert.Equal(first.Result.Progress.Evaluations, again.Reused["evaluations"]!.GetValue<long>());
        Assert.Equal(0, again.Result.Progress.Evaluations);
        Assert.Equal(again.Result.Progress.ItemsTotal, again.Result.Progress.ItemsDone);

        // The new job is alice's own: listed for her, with her name on it.
        var listed = await fixture.Alice.Api.ListJobsAsync(new ListJobsRequest { PageSize = 1000 }, deadline: Deadline());
        var row = Assert.Single(listed.Jobs, j => j.JobId == again.JobId);
        Assert.Equal(("alice", ApiJobState.Done), (row.Owner, row.State));
    }

    [Fact]
    public async Task A_changed_seed_or_parameter_or_no_cache_computes_afresh()
    {
        var first = await RunAsync(fixture.Alice, Request(seed: 202));

        var reseeded = await RunAsync(fixture.Alice, Request(seed: 203));
        var wider = Request(seed: 202);
        wider.Occlusion = TestJobs.Occlusion((3, 1));
        var changed = await RunAsync(fixture.Alice, wider);
        var uncached = Request(seed: 202);
        uncached.NoCache = true;
        var fresh = await RunAsync(fixture.Alice, uncached);

        foreach (var run in new[] { reseeded, changed, fresh })
        {
            Assert.Null(run.Reused);
            Assert.True(run.WorkerEvaluations > 0, $"job {run.JobId} evaluated nothing");
            Assert.Equal(run.WorkerEvaluations, run.Result.Progress.Evaluations);
        }
        Assert.Equal(Maps(first), Maps(fresh)); // computed again, the same bits (design invariant 1)
    }

    [Fact]
    public async Task A_teammate_gets_the_result_and_is_told_whose_job_it_came_from()
    {
        var alices = await RunAsync(fixture.Alice, Request(seed: 303));
        var bobs = await RunAsync(fixture.Bob, Request(seed: 303));

        Assert.Equal(0, bobs.WorkerEvaluations);
        Assert.Equal(Maps(alices), Maps(bobs));
        Assert.Equal(alices.JobId, bobs.Reused!["job_id"]!.GetValue<string>());
        Assert.Equal("bob", (await fixture.Bob.Api.GetJobAsync(new GetJobRequest { JobId = bobs.JobId }, deadline: Deadline())).Owner);
    }

    [Fact]
    public async Task Another_team_that_uploaded_the_same_inputs_gets_the_result_but_neither_the_job_nor_its_id()
    {
        var alices = await RunAsync(fixture.Alice, Request(seed: 404));
        // Carol (team audio) may use the inputs only because she uploads the same bytes herself.
        await fixture.Carol.UploadModelAsync(fixture.Model, "mine.onnx");
        await fixture.Carol.UploadImageAsync(fixture.Image, "mine.png");
        var carols = await RunAsync(fixture.Carol, Request(seed: 404));

        Assert.Equal(0, carols.WorkerEvaluations);
        Assert.Equal(Maps(alices), Maps(carols));
        // Reused, from a job she cannot see: its id and when it ran are not hers to know, and appear nowhere in her result.
        Assert.NotNull(carols.Reused);
        Assert.Null(carols.Reused!["job_id"]);
        Assert.Null(carols.Reused["finished_utc"]);
        Assert.DoesNotContain(alices.JobId, carols.Result.ToString());
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await fixture.Carol.Api.GetResultAsync(new GetResultRequest { JobId = alices.JobId }, deadline: Deadline()));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        // ... and her job is hers alone: alice's team cannot read it either.
        error = await Assert.ThrowsAsync<RpcException>(async () =>
            await fixture.Alice.Api.GetJobAsync(new GetJobRequest { JobId = carols.JobId }, deadline: Deadline()));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task A_user_who_may_not_use_the_inputs_cannot_submit_even_when_a_finished_job_has_the_answer()
    {
        await RunAsync(fixture.Alice, Request(seed: 505));
        using var dave = await fixture.AddAsync("dave", "radio");

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await dave.Api.SubmitJobAsync(Request(seed: 505), deadline: Deadline()));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("upload it first", error.Status.Detail);
    }

    [Fact]
    public async Task A_deleted_job_is_not_reused()
    {
        var deleted = await RunAsync(fixture.Alice, Request(seed: 606));
        await fixture.Alice.Api.DeleteJobAsync(new DeleteJobRequest { JobId = deleted.JobId }, deadline: Deadline());

        var after = await RunAsync(fixture.Alice, Request(seed: 606));
        var again = await RunAsync(fixture.Alice, Request(seed: 606));

        Assert.Null(after.Reused);
        Assert.True(after.WorkerEvaluations > 0);
        Assert.Equal(Maps(deleted), Maps(after));
        Assert.Equal(after.JobId, again.Reused!["job_id"]!.GetValue<string>()); // the fresh job answers from then on
        Assert.Equal(0, again.WorkerEvaluations);
    }
}

/// <summary>
/// Apart from <see cref="ResultReuseTests"/> (its own node): a cancelled job's last batch may still be counted by the
/// worker after the cancel, which must not fall into another test's count of evaluations.
/// </summary>
public sealed class CancelledResultReuseTests(SharedNodeFixture fixture) : IClassFixture<SharedNodeFixture>
{
    private static DateTime Deadline() => DateTime.UtcNow + TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_cancelled_job_is_not_reused()
    {
        // Big enough (about 100,000 evaluations) that the cancel lands long before the job could finish.
        const int size = 224;
        using var erin = await fixture.AddAsync("erin", "cancel");
        var slow = new SubmitJobRequest
        {
            ModelSha256 = (await erin.UploadModelAsync(SyntheticModels.SquareBrightness(size, size, (50, 50, 100, 100)), "m.onnx")).Sha256,
            ImageSha256 = (await erin.UploadImageAsync(TestImages.Noise(size, size, seed: 9), "i.png")).Sha256,
            Preprocessing = TestJobs.Identity(size, size),
            Targets = new Targets { Classes = { 0 } },
            Occlusion = TestJobs.Occlusion((1, 1), (2, 1)),
            Seed = 707,
        };
        var first = (await erin.Api.SubmitJobAsync(slow, deadline: Deadline())).JobId;
        Assert.Equal(ApiJobState.Cancelled,
            (await erin.Api.CancelJobAsync(new CancelJobRequest { JobId = first }, deadline: Deadline())).State);

        var second = (await erin.Api.SubmitJobAsync(slow, deadline: Deadline())).JobId;
        var progress = await erin.Api.GetJobAsync(new GetJobRequest { JobId = second }, deadline: Deadline());
        await erin.Api.CancelJobAsync(new CancelJobRequest { JobId = second }, deadline: Deadline());

        Assert.NotEqual(first, second);
        Assert.NotEqual(ApiJobState.Done, progress.State); // queued or running: computed, not answered from the cancelled job
        Assert.Equal(1 + 224 * 224 + 223 * 223, progress.EvaluationsTotal); // all of it to compute
    }
}
