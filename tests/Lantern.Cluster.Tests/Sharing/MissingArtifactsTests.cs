using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Contracts.Api;
using Lantern.Storage;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Sharing;

/// <summary>
/// FindMissingArtifacts on a shared node: it names what the caller would have to upload before naming it in a job, by
/// the same rule SubmitJob applies (held by the store and granted to the caller's team), and the client uploads only that.
/// </summary>
public sealed class MissingArtifactsTests(SharedNodeFixture fixture) : IClassFixture<SharedNodeFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<List<string>> MissingAsync(ExplainClient client, params string[] hashes) =>
        [.. (await client.Api.FindMissingArtifactsAsync(new FindMissingArtifactsRequest { Sha256 = { hashes } },
            deadline: DateTime.UtcNow + Timeout)).MissingSha256];

    private static readonly string Unknown = ContentHash.Sha256("bytes nobody uploaded"u8.ToArray());

    [Fact]
    public async Task An_artifact_is_missing_for_a_caller_until_someone_in_their_team_uploaded_it()
    {
        using var hank = await fixture.AddAsync("hank", "acoustics");
        string[] asked = [fixture.ModelSha256, Unknown, fixture.ImageSha256];

        // Alice uploaded both; her teammate Bob may use them; Hank in another team may not, though the store holds them.
        Assert.Equal([Unknown], await MissingAsync(fixture.Alice, asked));
        Assert.Equal([Unknown], await MissingAsync(fixture.Bob, asked));
        Assert.Equal(asked, await MissingAsync(hank, asked));
        Assert.Equal([Unknown], await MissingAsync(fixture.Root, asked)); // an admin may use anything the store holds

        await hank.UploadModelAsync(fixture.Model, "m.onnx");
        Assert.Equal([Unknown, fixture.ImageSha256], await MissingAsync(hank, asked));
        Assert.Equal([Unknown], await MissingAsync(hank, Unknown, Unknown)); // each hash answered once
    }

    [Fact]
    public async Task A_malformed_hash_or_too_many_at_once_is_an_invalid_argument()
    {
        var malformed = await Assert.ThrowsAsync<RpcException>(() => MissingAsync(fixture.Alice, fixture.ModelSha256.ToUpperInvariant()));
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        Assert.Contains("64 lower-case hex digits", malformed.Status.Detail);

        var many = Enumerable.Range(0, 1001).Select(i => ContentHash.Sha256(BitConverter.GetBytes(i))).ToArray();
        var tooMany = await Assert.ThrowsAsync<RpcException>(() => MissingAsync(fixture.Alice, many));
        Assert.Equal(StatusCode.InvalidArgument, tooMany.StatusCode);
        Assert.Contains("at most 1000", tooMany.Status.Detail);
    }

    [Fact]
    public async Task The_client_uploads_only_the_files_the_gateway_lacks_for_the_caller()
    {
        using var ida = await fixture.AddAsync("ida", "optics");
        var request = fixture.Submit("ida's");
        request.ModelSha256 = request.ImageSha256 = "";

        // The store holds both files, but not for Ida's team: she uploads both, and her upload quota counts them.
        var first = await ida.SubmitAsync(request.Clone(), fixture.Model, "m.onnx", fixture.Image, "i.png");
        var uploaded = await fixture.Node.Users.UploadedTodayAsync("ida");
        Assert.Equal(fixture.Model.Length + fixture.Image.Length, uploaded);

        // Now they are hers: the next submission sends neither, and runs as the first did.
        var second = await ida.SubmitAsync(request.Clone(), fixture.Model, "m.onnx", fixture.Image, "i.png");
        Assert.Equal(uploaded, await fixture.Node.Users.UploadedTodayAsync("ida"));
        Assert.NotEqual(first, second);
        using var timeout = new CancellationTokenSource(Timeout);
        Assert.Equal(ApiJobState.Done, (await ida.WatchAsync(second, _ => { }, timeout.Token)).State);
        var progress = await ida.Api.GetJobAsync(new GetJobRequest { JobId = second });
        Assert.Equal((fixture.ModelSha256, fixture.ImageSha256), (progress.ModelSha256, progress.ImageSha256));
    }
}
