using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Imaging;
using Microsoft.Extensions.DependencyInjection;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Sharing;

/// <summary>
/// Quotas: a default for everyone, overridden per team and per user (the user's own winning); beyond one, the call is
/// RESOURCE_EXHAUSTED naming the quota, the value asked and the allowance. Each test has its own user and team.
/// </summary>
public sealed class QuotaTests(SharedNodeFixture fixture) : IClassFixture<SharedNodeFixture>
{
    private static DateTime Deadline() => DateTime.UtcNow + TimeSpan.FromSeconds(60);

    private async Task<ExplainClient> UserWithUploadsAsync(string name, string team)
    {
        var client = await fixture.AddAsync(name, team);
        await client.UploadModelAsync(fixture.Model, "m.onnx");
        await client.UploadImageAsync(fixture.Image, "i.png");
        return client;
    }

    private Task SetAsync(string name, bool team, string quota, long value) =>
        fixture.Root.Admin.SetQuotaAsync(new SetQuotaRequest { Name = name, Team = team, Quotas = { new Quota { Name = quota, Value = value } } },
            deadline: Deadline()).ResponseAsync;

    private static async Task<string> ExhaustedAsync(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        return error.Status.Detail;
    }

    [Fact]
    public async Task Targets_above_the_users_quota_are_refused_naming_the_quota_the_count_and_the_allowance()
    {
        using var user = await UserWithUploadsAsync("quota-targets", "qt");
        await SetAsync("quota-targets", team: false, "targets_per_job", 1);
        var request = fixture.Submit();
        request.Targets = new Targets { Classes = { 0, 1 } };

        var detail = await ExhaustedAsync(async () => await user.Api.SubmitJobAsync(request, deadline: Deadline()));

        Assert.Contains("quota targets_per_job exceeded: the number of targets is 2, the allowance is 1", detail);
    }

    [Fact]
    public async Task Ten_thousand_targets_are_refused_by_the_default_quota_before_any_is_checked()
    {
        var request = fixture.Submit();
        request.Targets = new Targets { Classes = { Enumerable.Range(0, 10_000) } };

        var detail = await ExhaustedAsync(async () => await fixture.Alice.Api.SubmitJobAsync(request, deadline: Deadline()));

        Assert.Contains("targets_per_job exceeded: the number of targets is 10,000, the allowance is 100", detail);
    }

    [Fact]
    public async Task A_team_quota_applies_to_its_users_and_a_users_own_quota_wins_over_it()
    {
        using var user = await UserWithUploadsAsync("quota-team", "qteam");
        await SetAsync("qteam", team: true, "evaluations_per_job", 3);

        var detail = await ExhaustedAsync(async () => await user.Api.SubmitJobAsync(fixture.Submit(), deadline: Deadline()));
        await SetAsync("quota-team", team: false, "evaluations_per_job", 1000);
        var jobId = (await user.Api.SubmitJobAsync(fixture.Submit(), deadline: Deadline())).JobId;

        Assert.Contains("quota evaluations_per_job exceeded: the model evaluations this job needs is 16, the allowance is 3", detail);
        Assert.NotEmpty(jobId);
    }

    /// <summary>A job of minutes (1- and 2-pixel windows over 224×224) on inputs the user uploads: it runs while a test looks.</summary>
    private static async Task<SubmitJobRequest> SlowJobAsync(ExplainClient user, int imageSeed)
    {
        const int size = 224;
        return new SubmitJobRequest
        {
            ModelSha256 = (await user.UploadModelAsync(SyntheticModels.SquareBrightness(size, size, (50, 50, 100, 100)), "m.onnx")).Sha256,
            ImageSha256 = (await user.UploadImageAsync(TestImages.Noise(size, size, seed: imageSeed), "i.png")).Sha256,
            Preprocessing = TestJobs.Identity(size, size),
            Targets = new Targets { Classes = { 0 } },
            Occlusion = TestJobs.Occlusion((1, 1), (2, 1)),
        };
    }

    [Fact]
    public async Task A_second_concurrent_job_beyond_the_quota_is_refused_until_the_first_ends()
    {
        using var user = await fixture.AddAsync("quota-concurrent", "qc");
        await SetAsync("quota-concurrent", team: false, "concurrent_jobs", 1);
        var slow = await SlowJobAsync(user, imageSeed: 9);
        var first = (await user.Api.SubmitJobAsync(slow, deadline: Deadline())).JobId;

        var detail = await ExhaustedAsync(async () => await user.Api.SubmitJobAsync(slow, deadline: Deadline()));
        var cancelled = await user.Api.CancelJobAsync(new CancelJobRequest { JobId = first }, deadline: Deadline());
        var second = (await user.Api.SubmitJobAsync(slow, deadline: Deadline())).JobId;
        await user.Api.CancelJobAsync(new CancelJobRequest { JobId = second }, deadline: Deadline());

        Assert.Contains("quota concurrent_jobs exceeded: your queued and running jobs with this one is 2, the allowance is 1", detail);
        Assert.Equal(ApiJobState.Cancelled, cancelled.State);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Simultaneous_submits_beyond_the_concurrent_jobs_quota_start_only_what_the_quota_allows()
    {
        using var user = await fixture.AddAsync("quota-race", "qr");
        await SetAsync("quota-race", team: false, "concurrent_jobs", 2);
        var slow = await SlowJobAsync(user, imageSeed: 19);

        // Eight at once: each checks the user's unfinished jobs before it records its own, so unserialised they all pass.
        var submits = Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                return (await user.Api.SubmitJobAsync(slow, deadline: Deadline())).JobId;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                return null;
            }
        }).ToList();
        var started = (await Task.WhenAll(submits)).OfType<string>().ToList();
        foreach (var jobId in started) await user.Api.CancelJobAsync(new CancelJobRequest { JobId = jobId }, deadline: Deadline());

        Assert.Equal(2, started.Count);
    }

    [Fact]
    public async Task Many_tiny_uploads_are_bounded_by_the_daily_upload_quota()
    {
        using var user = await fixture.AddAsync("quota-uploads", "qu");
        await SetAsync("quota-uploads", team: false, "upload_bytes_per_day", 2_000);
        var accepted = 0L;
        string? refused = null;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            var image = TestImages.Noise(4, 4, seed: 1000 + i);
            try
            {
                accepted += (await user.UploadImageAsync(image, "tiny.png")).Size;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                refused = e.Status.Detail;
                Assert.True(accepted + image.Length > 2_000);
            }
        }

        Assert.NotNull(refused);
        Assert.InRange(accepted, 1, 2_000);
        Assert.Contains("quota upload_bytes_per_day exceeded", refused);
        Assert.Contains("the allowance is 2,000", refused);
    }

    [Theory]
    [InlineData(60_000, 60_000)]
    [InlineData(9_990, 9_990)]
    public async Task An_image_whose_header_claims_too_many_pixels_is_refused_before_a_pixel_is_decoded(int width, int height)
    {
        var budget = fixture.Node.Services.GetRequiredService<DecodeBudget>();

        var detail = await ExhaustedAsync(() => fixture.Alice.UploadImageAsync(HostileImages.PngHeader(width, height), "huge.png"));

        Assert.Contains($"quota image_pixels exceeded: the image's size ({width}x{height} in its header) is {(long)width * height:N0}", detail);
        Assert.Equal(0, budget.UsedBytes);
    }
}
