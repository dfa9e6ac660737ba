using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Lantern.Gateway.Hosting;
using Lantern.Gateway.Quotas;
using Targets = Lantern.Contracts.Api.Targets;

namespace Lantern.Cluster.Tests.Dream;

/// <summary>The gateway checks a deep dream request's options, its channels against the model, and its cost against the quota.</summary>
public sealed class DeepDreamSubmitTests : IAsyncLifetime
{
    private const int Size = 16;
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(TestDatabase.Sqlite(),
        gateway: new GatewayOptions { Quotas = new QuotaLimits { MaxEvaluationsPerJob = 1_000 } });

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

    [Theory]
    [InlineData("features:4", null, "channel 4 is out of range")]
    [InlineData("features:0,0", null, "each channel once")]
    [InlineData("flat:0", null, "is not a 4-D activation")]
    [InlineData("features:0", 1, "leave targets unset")]
    public async Task A_channel_the_model_does_not_have_is_invalid_argument(string channel, int? alsoClass, string message)
    {
        var request = new SubmitJobRequest
        {
            ModelSha256 = (await _node.Client.UploadModelAsync(SyntheticModels.RegionCnn(Size, Size, (2, 2, 8, 8)), "cnn.onnx")).Sha256,
            ImageSha256 = (await _node.Client.UploadImageAsync(TestImages.Noise(Size, Size), "image.png")).Sha256,
            Preprocessing = TestJobs.Identity(Size, Size),
            Targets = alsoClass is { } c ? new Targets { Classes = { c } } : null,
            DeepDream = new DeepDreamOptions { Channel = channel },
        };
        var error = await Assert.ThrowsAsync<RpcException>(async () => await _node.Api.SubmitJobAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(message, error.Status.Detail);
    }

    [Fact]
    public async Task Deep_dream_named_as_a_gradient_method_points_to_its_own_options()
    {
        var request = await RequestAsync(new DeepDreamOptions());
        request.Gradient = new GradientOptions { Method = "deep-dream" };
        var error = await Assert.ThrowsAsync<RpcException>(async () => await _node.Api.SubmitJobAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("deep_dream", error.Status.Detail);
    }

    [Fact]
    public async Task A_dream_beyond_the_evaluations_quota_is_resource_exhausted_counting_every_ascent_step()
    {
        // Two classes × (8 octaves × 100 iterations + 1): 1,602 evaluations, above this node's 1,000 (two work items only).
        var request = await RequestAsync(new DeepDreamOptions { Octaves = 8, Iterations = 100 });
        request.Targets = new Targets { Classes = { 0, 1 } };
        var error = await Assert.ThrowsAsync<RpcException>(async () => await _node.Api.SubmitJobAsync(request));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("1602", error.Status.Detail.Replace(",", ""));
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
