using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Targets = Lantern.Contracts.Api.Targets;

namespace Lantern.Cluster.Tests.Dream;

/// <summary>The gateway checks a deep dream request's options; the cluster does not run deep dream yet.</summary>
public sealed class DeepDreamSubmitTests : IAsyncLifetime
{
    private const int Size = 16;
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(TestDatabase.Sqlite());

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Theory]
    [InlineData(-1, 20, "", "", "octaves")]
    [InlineData(3, -5, "", "", "iterations")]
    [InlineData(3, 20, "sky", "", "noise or image")]
    [InlineData(3, 20, "", "features", "LAYER:C")]
    [InlineData(3, 20, "", "features:x", "LAYER:C")]
    public async Task Bad_deep_dream_options_are_invalid_argument(int octaves, int iterations, string start, string channel, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _node.Api.SubmitJobAsync(await RequestAsync(new DeepDreamOptions { Octaves = octaves, Iterations = iterations, Start = start, Channel = channel })));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(message, error.Status.Detail);
    }

    [Fact]
    public async Task A_valid_deep_dream_request_is_unimplemented_until_the_cluster_runs_it()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _node.Api.SubmitJobAsync(await RequestAsync(new DeepDreamOptions())));
        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    private async Task<SubmitJobRequest> RequestAsync(DeepDreamOptions options) => new()
    {
        ModelSha256 = (await _node.Client.UploadModelAsync(SyntheticModels.SquareBrightness(Size, Size, (4, 4, 6, 6)), "model.onnx")).Sha256,
        ImageSha256 = (await _node.Client.UploadImageAsync(TestImages.Noise(Size, Size), "image.png")).Sha256,
        Preprocessing = TestJobs.Identity(Size, Size),
        Targets = new Targets { Classes = { 0 } },
        NoCache = true,
        DeepDream = options,
    };
}
