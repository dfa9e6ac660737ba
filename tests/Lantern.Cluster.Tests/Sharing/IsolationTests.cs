using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.Support;
using Lantern.Contracts.Api;
using Lantern.Storage.Users;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Sharing;

/// <summary>
/// Keys and isolation on a shared node: every call needs a valid key; a user sees their own and their team's jobs,
/// another team's job answers exactly as a job that does not exist, and knowing an artifact's hash grants nothing.
/// </summary>
public sealed class IsolationTests(SharedNodeFixture fixture) : IClassFixture<SharedNodeFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static DateTime Deadline() => DateTime.UtcNow + Timeout;

    private static async Task<RpcException> FailsWith(StatusCode code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, error.StatusCode);
        return error;
    }

    private async Task<string> RunToEndAsync(ExplainClient client, SubmitJobRequest request)
    {
        var jobId = (await client.Api.SubmitJobAsync(request, deadline: Deadline())).JobId;
        using var timeout = new CancellationTokenSource(Timeout);
        Assert.Equal(ApiJobState.Done, (await client.WatchAsync(jobId, _ => { }, timeout.Token)).State);
        return jobId;
    }

    public static TheoryData<string> JobRpcs => ["GetJob", "WatchJob", "GetResult", "CancelJob", "DeleteJob"];

    private static Task CallWithJobId(ExplainClient client, string rpc, string jobId) => rpc switch
    {
        "GetJob" => client.Api.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: Deadline()).ResponseAsync,
        "GetResult" => client.Api.GetResultAsync(new GetResultRequest { JobId = jobId }, deadline: Deadline()).ResponseAsync,
        "CancelJob" => client.Api.CancelJobAsync(new CancelJobRequest { JobId = jobId }, deadline: Deadline()).ResponseAsync,
        "DeleteJob" => client.Api.DeleteJobAsync(new DeleteJobRequest { JobId = jobId }, deadline: Deadline()).ResponseAsync,
        "WatchJob" => FirstProgressAsync(client, jobId),
        _ => throw new ArgumentOutOfRangeException(nameof(rpc)),
    };

    private static async Task FirstProgressAsync(ExplainClient client, string jobId)
    {
        using var call = client.Api.WatchJob(new WatchJobRequest { JobId = jobId }, deadline: Deadline());
        await call.ResponseStream.MoveNext(CancellationToken.None);
    }

    [Fact]
    public async Task A_call_without_a_key_is_unauthenticated_and_says_how_to_send_one()
    {
        var error = await FailsWith(StatusCode.Unauthenticated,
            async () => await fixture.Anonymous.Api.ListJobsAsync(new ListJobsRequest(), deadline: Deadline()));

        Assert.Contains("authorization: Bearer KEY", error.Status.Detail);
        await FailsWith(StatusCode.Unauthenticated, () => fixture.Anonymous.UploadImageAsync(fixture.Image, "x.png"));
    }

    [Theory]
    [InlineData("not-a-key", "is not 'Bearer KEY'")]
    [InlineData("lnt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not known here")]
    public async Task A_malformed_or_unknown_key_is_unauthenticated(string key, string phrase)
    {
        using var client = fixture.Node.ClientWith(key);

        var error = await FailsWith(StatusCode.Unauthenticated,
            async () => await client.Api.GetJobAsync(new GetJobRequest { JobId = "abc" }, deadline: Deadline()));

        Assert.Contains(phrase, error.Status.Detail);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_from_the_next_call_on()
    {
        using var dave = await fixture.AddAsync("dave", "vision");
        await dave.Api.ListJobsAsync(new ListJobsRequest(), deadline: Deadline());

        await fixture.Root.Admin.RevokeUserAsync(new RevokeUserRequest { Name = "dave" }, deadline: Deadline());

        var error = await FailsWith(StatusCode.Unauthenticated,
            async () => await dave.Api.ListJobsAsync(new ListJobsRequest(), deadline: Deadline()));
        Assert.Contains("'dave' was revoked", error.Status.Detail);
    }

    [Fact]
    public async Task Only_an_admin_may_add_users()
    {
        var error = await FailsWith(StatusCode.PermissionDenied, async () =>
            await fixture.Alice.Admin.AddUserAsync(new AddUserRequest { Name = "mallory", Team = "vision", Admin = true }, deadline: Deadline()));

        Assert.Contains("only an admin", error.Status.Detail);
        Assert.Null(await fixture.Node.Users.FindAsync("mallory"));
    }

    [Fact]
    public async Task Keys_are_stored_only_as_hashes()
    {
        var added = await fixture.Root.Admin.AddUserAsync(new AddUserRequest { Name = "erin", Team = "vision" }, deadline: Deadline());

        // The database file and its write-ahead log (where a fresh row sits until a checkpoint).
        var hashSeen = false;
        foreach (var file in new[] { fixture.Node.DatabasePath, fixture.Node.DatabasePath + "-wal" }.Where(File.Exists))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(-1, copy.ToArray().AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(added.ApiKey)));
            hashSeen |= copy.ToArray().AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(ApiKeys.Hash(added.ApiKey))) >= 0;
        }
        Assert.True(hashSeen, "the key's hash is what the database holds");
        Assert.Equal("erin", (await fixture.Node.Users.FindByKeyAsync(added.ApiKey))!.Name);
    }

    [Theory]
    [MemberData(nameof(JobRpcs))]
    public async Task Another_teams_job_is_not_found_exactly_like_a_job_that_does_not_exist(string rpc)
    {
        var jobId = await RunToEndAsync(fixture.Alice, fixture.Submit("alice's"));
        var missing = Guid.NewGuid().ToString("N");

        var hidden = await FailsWith(StatusCode.NotFound, () => CallWithJobId(fixture.Carol, rpc, jobId));
        var absent = await FailsWith(StatusCode.NotFound, () => CallWithJobId(fixture.Carol, rpc, missing));

        Assert.Equal(absent.Status.Detail.Replace(missing, "ID"), hidden.Status.Detail.Replace(jobId, "ID"));
        // Her teammate and the admin see it; it was not cancelled by Carol's try.
        Assert.Equal(ApiJobState.Done, (await fixture.Bob.Api.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: Deadline())).State);
        var result = await fixture.Root.Api.GetResultAsync(new GetResultRequest { JobId = jobId }, deadline: Deadline());
        Assert.Equal(SharedNodeFixture.Size * SharedNodeFixture.Size, TestJobs.Floats(Assert.Single(result.Maps)).Length);
    }

    [Fact]
    public async Task A_teammate_may_delete_a_job_and_its_id_then_answers_not_found()
    {
        var jobId = await RunToEndAsync(fixture.Alice, fixture.Submit("to delete"));

        await fixture.Bob.Api.DeleteJobAsync(new DeleteJobRequest { JobId = jobId }, deadline: Deadline());

        var error = await FailsWith(StatusCode.NotFound,
            async () => await fixture.Alice.Api.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: Deadline()));
        Assert.Contains($"no job with id '{jobId}'", error.Status.Detail);
    }

    [Fact]
    public async Task Listing_jobs_shows_own_and_team_jobs_only_and_an_admin_sees_all()
    {
        var alices = (await fixture.Alice.Api.SubmitJobAsync(fixture.Submit("listed-alice"), deadline: Deadline())).JobId;
        await fixture.Carol.UploadModelAsync(fixture.Model, "m.onnx");
        await fixture.Carol.UploadImageAsync(fixture.Image, "i.png");
        var carols = (await fixture.Carol.Api.SubmitJobAsync(fixture.Submit("listed-carol"), deadline: Deadline())).JobId;

        var bob = (await fixture.Bob.Api.ListJobsAsync(new ListJobsRequest(), deadline: Deadline())).Jobs.Select(j => j.JobId).ToList();
        var carol = (await fixture.Carol.Api.ListJobsAsync(new ListJobsRequest(), deadline: Deadline())).Jobs.Select(j => j.JobId).ToList();
        var root = (await fixture.Root.Api.ListJobsAsync(new ListJobsRequest(), deadline: Deadline())).Jobs;

        Assert.Contains(alices, bob);
        Assert.DoesNotContain(carols, bob);
        Assert.Contains(carols, carol);
        Assert.DoesNotContain(alices, carol);
        Assert.Contains(root, j => j.JobId == alices && j.Owner == "alice" && j.Team == "vision");
        Assert.Contains(root, j => j.JobId == carols && j.Owner == "carol" && j.Team == "audio");
    }

    [Fact]
    public async Task Knowing_an_artifacts_hash_grants_nothing_until_the_user_uploads_the_bytes()
    {
        using var frank = await fixture.AddAsync("frank", "robotics");

        var error = await FailsWith(StatusCode.NotFound,
            async () => await frank.Api.SubmitJobAsync(fixture.Submit("frank's"), deadline: Deadline()));
        Assert.Contains($"no model with sha256 {fixture.ModelSha256}; upload it first with UploadModel", error.Status.Detail);

        // Uploading the same bytes stores nothing new but grants Frank their use.
        Assert.True((await frank.UploadModelAsync(fixture.Model, "m.onnx")).AlreadyPresent);
        var image = await FailsWith(StatusCode.NotFound,
            async () => await frank.Api.SubmitJobAsync(fixture.Submit("frank's"), deadline: Deadline()));
        Assert.Contains("no image with sha256", image.Status.Detail);
        await frank.UploadImageAsync(fixture.Image, "i.png");
        Assert.NotEmpty((await frank.Api.SubmitJobAsync(fixture.Submit("frank's"), deadline: Deadline())).JobId);
    }

    [Fact]
    public async Task A_teammates_upload_may_be_used_without_uploading_again()
    {
        var jobId = await RunToEndAsync(fixture.Bob, fixture.Submit("bob's on alice's upload"));

        var progress = await fixture.Bob.Api.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: Deadline());
        Assert.Equal(("bob", "vision"), (progress.Owner, progress.Team));
    }

    [Fact]
    public async Task A_retried_submit_with_the_same_request_id_returns_the_same_job()
    {
        var request = fixture.Submit("idempotent");
        request.RequestId = Guid.NewGuid().ToString();

        var first = (await fixture.Alice.Api.SubmitJobAsync(request, deadline: Deadline())).JobId;
        var retry = (await fixture.Alice.Api.SubmitJobAsync(request, deadline: Deadline())).JobId;
        var teammate = (await fixture.Bob.Api.SubmitJobAsync(request, deadline: Deadline())).JobId;

        Assert.Equal(first, retry);
        Assert.NotEqual(first, teammate); // a request id is the submitter's own
        var mine = (await fixture.Alice.Api.ListJobsAsync(new ListJobsRequest(), deadline: Deadline())).Jobs;
        Assert.Single(mine, j => j.JobId == first);
    }
}
