using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Contracts.Api;
using ApiJobState = Lantern.Contracts.Api.JobState;
using Segmentation = Lantern.Contracts.Api.Segmentation;

namespace Lantern.Cluster.Tests.Gateway;

/// <summary>Bad parameters of the sampling methods (LIME, KernelSHAP, RISE): the right status, a message saying what to change.</summary>
public sealed class SamplingBadInputTests(GatewayNodeFixture fixture) : IClassFixture<GatewayNodeFixture>
{
    private SubmitJobRequest Submit(Action<SubmitJobRequest> method)
    {
        var request = new SubmitJobRequest
        {
            ModelSha256 = fixture.ModelSha256, ImageSha256 = fixture.ImageSha256,
            Preprocessing = TestJobs.Identity(GatewayNodeFixture.Size, GatewayNodeFixture.Size),
            Targets = new Targets { Classes = { 0 } },
        };
        method(request);
        return request;
    }

    private static readonly Segmentation Grid4 = new() { Method = "grid", Segments = 4 };

    public static TheoryData<string, StatusCode, string> Cases => new()
    {
        { "lime samples 0", StatusCode.InvalidArgument, "samples of at least 1" },
        { "lime samples -5", StatusCode.InvalidArgument, "samples of at least 1" },
        { "lime samples above the quota", StatusCode.ResourceExhausted, "quota" },
        { "segmentation with one feature", StatusCode.InvalidArgument, "at least 2" },
        { "unknown segmentation", StatusCode.InvalidArgument, "slic, felzenszwalb, grid" },
        { "unknown feature selection", StatusCode.InvalidArgument, "auto, forward_selection, highest_weights, none" },
        { "lime hides with blur", StatusCode.InvalidArgument, "feature_mean" },
        { "kernel_shap samples 0", StatusCode.InvalidArgument, "samples of at least 1" },
        { "rise density 1.5", StatusCode.InvalidArgument, "between 0 and 1" },
        { "rise one cell", StatusCode.InvalidArgument, "at least 2 cells" },
        { "occlusion with feature_mean", StatusCode.InvalidArgument, "superpixels" },
    };

    private SubmitJobRequest Case(string name) => name switch
    {
        "lime samples 0" => Submit(r => r.Lime = new LimeOptions { Samples = 0, Segmentation = Grid4 }),
        "lime samples -5" => Submit(r => r.Lime = new LimeOptions { Samples = -5, Segmentation = Grid4 }),
        "lime samples above the quota" => Submit(r => r.Lime = new LimeOptions { Samples = 6_000_000, Segmentation = Grid4 }),
        "segmentation with one feature" => Submit(r => r.Lime = new LimeOptions
        {
            Samples = 10, Segmentation = new Segmentation { Method = "grid", Segments = 1 },
        }),
        "unknown segmentation" => Submit(r => r.Lime = new LimeOptions
        {
            Samples = 10, Segmentation = new Segmentation { Method = "watershed" },
        }),
        "unknown feature selection" => Submit(r => r.Lime = new LimeOptions
        {
            Samples = 10, Segmentation = Grid4, FeatureSelection = "lasso",
        }),
        "lime hides with blur" => Submit(r => r.Lime = new LimeOptions
        {
            Samples = 10, Segmentation = Grid4, Hide = new Fill { Kind = Fill.Types.Kind.Blur },
        }),
        "kernel_shap samples 0" => Submit(r => r.KernelShap = new KernelShapOptions { Samples = 0, Segmentation = Grid4 }),
        "rise density 1.5" => Submit(r => r.Rise = new RiseOptions { Samples = 10, Density = 1.5f }),
        "rise one cell" => Submit(r => r.Rise = new RiseOptions { Samples = 10, Cells = 1 }),
        "occlusion with feature_mean" => Submit(r =>
        {
            r.Occlusion = TestJobs.Occlusion((2, 2));
            r.Occlusion.Fill = new Fill { Kind = Fill.Types.Kind.FeatureMean };
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_bad_sampling_parameter_is_refused_with_a_message_and_the_node_keeps_serving(
        string name, StatusCode code, string phrase)
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await fixture.Node.Api.SubmitJobAsync(Case(name)));

        Assert.Equal(code, error.StatusCode);
        Assert.Contains(phrase, error.Status.Detail);
        var valid = Submit(r => r.Lime = new LimeOptions { Samples = 20, Segmentation = Grid4 });
        var jobId = (await fixture.Node.Api.SubmitJobAsync(valid)).JobId;
        Assert.Equal(ApiJobState.Done, (await fixture.Node.Client.WatchAsync(jobId, _ => { })).State);
    }
}
