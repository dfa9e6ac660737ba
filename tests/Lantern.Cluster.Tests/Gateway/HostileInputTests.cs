using Google.Protobuf;
using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using ApiJobState = Lantern.Contracts.Api.JobState;
using Segmentation = Lantern.Contracts.Api.Segmentation;

namespace Lantern.Cluster.Tests.Gateway;

/// <summary>
/// The hostile-input rows of the README's table that <see cref="BadInputTests"/> and <see cref="SamplingBadInputTests"/>
/// do not cover: non-finite numbers, absurd sizes, oversized messages, models that produce NaN. Each answers with a
/// clear status, and the node goes on serving.
/// </summary>
public sealed class HostileInputTests(GatewayNodeFixture fixture) : IClassFixture<GatewayNodeFixture>
{
    private const int Size = GatewayNodeFixture.Size;

    private Contracts.Api.Lantern.LanternClient Api => fixture.Node.Api;

    private static DateTime Deadline() => DateTime.UtcNow + TimeSpan.FromSeconds(60);

    private SubmitJobRequest Valid() => new()
    {
        ModelSha256 = fixture.ModelSha256,
        ImageSha256 = fixture.ImageSha256,
        Preprocessing = TestJobs.Identity(Size, Size),
        Targets = new Targets { Classes = { 0 } },
        Occlusion = TestJobs.Occlusion((2, 2)),
    };

    private static async Task<RpcException> FailsWith(StatusCode code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, error.StatusCode);
        return error;
    }

    private async Task AssertNodeStillServesAsync()
    {
        var jobId = (await Api.SubmitJobAsync(Valid(), deadline: Deadline())).JobId;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.Equal(ApiJobState.Done, (await fixture.Node.Client.WatchAsync(jobId, _ => { }, timeout.Token)).State);
    }

    public static TheoryData<string, string> NonFiniteParameters => new()
    {
        { "NaN fill colour", "a constant fill takes r, g, b between 0 and 255, got NaN" },
        { "infinite fill colour", "a constant fill takes r, g, b between 0 and 255" },
        { "NaN blur sigma", "blur_sigma must be a number of pixels above 0" },
        { "NaN mean", "mean and scale must be finite numbers" },
        { "infinite scale", "mean and scale must be finite numbers" },
        { "NaN std", "std values must be finite and non-zero" },
        { "NaN refine threshold", "refine_threshold is a fraction" },
        { "NaN slic compactness", "compactness and scale must be positive numbers" },
        { "NaN smoothgrad sigma", "smooth_sigma must be positive" },
    };

    private SubmitJobRequest NonFinite(string kind)
    {
        var request = Valid();
        switch (kind)
        {
            case "NaN fill colour":
                request.Occlusion.Fill = new Fill { Kind = Fill.Types.Kind.Constant, R = float.NaN, G = 0, B = 0 };
                break;
            case "infinite fill colour":
                request.Occlusion.Fill = new Fill { Kind = Fill.Types.Kind.Constant, R = 0, G = float.PositiveInfinity, B = 0 };
                break;
            case "NaN blur sigma":
                request.Occlusion.Fill = new Fill { Kind = Fill.Types.Kind.Blur, BlurSigma = float.NaN };
                break;
            case "NaN mean":
                request.Preprocessing.Mean[1] = float.NaN;
                break;
            case "infinite scale":
                request.Preprocessing.Scale = float.PositiveInfinity;
                break;
            case "NaN std":
                request.Preprocessing.Std[2] = float.NaN;
                break;
            case "NaN refine threshold":
                request.Occlusion = TestJobs.Occlusion((4, 2), (2, 2));
                request.Occlusion.CoarseToFine = true;
                request.Occlusion.RefineThreshold = float.NaN;
                break;
            case "NaN slic compactness":
                request.Lime = new LimeOptions { Samples = 10, Segmentation = new Segmentation { Method = "slic", Compactness = float.NaN } };
                break;
            case "NaN smoothgrad sigma":
                request.Gradient = new GradientOptions { Method = "smoothgrad", SmoothSigma = float.NaN };
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
        return request;
    }

    [Theory]
    [MemberData(nameof(NonFiniteParameters))]
    public async Task A_NaN_or_infinite_parameter_is_an_invalid_argument_that_names_it(string kind, string phrase)
    {
        var error = await FailsWith(StatusCode.InvalidArgument, async () => await Api.SubmitJobAsync(NonFinite(kind), deadline: Deadline()));

        Assert.Contains(phrase, error.Status.Detail);
    }

    [Fact]
    public async Task A_free_size_model_asked_for_100000_by_100000_pixels_is_refused_clearly()
    {
        var model = (await fixture.Node.Client.UploadModelAsync(SyntheticModels.FreeSizeChannelMeans(), "free.onnx")).Sha256;
        var request = Valid();
        request.ModelSha256 = model;
        request.Preprocessing.Width = request.Preprocessing.Height = 100_000;

        var error = await FailsWith(StatusCode.InvalidArgument, async () => await Api.SubmitJobAsync(request, deadline: Deadline()));

        Assert.Contains("preprocessing size 100000x100000 is too large: the model input may be at most 8192x8192", error.Status.Detail);
        await AssertNodeStillServesAsync();
    }

    [Fact]
    public async Task A_model_whose_output_for_the_unperturbed_image_is_NaN_fails_the_job_at_once_with_the_reason()
    {
        var zeros = new[] { new float[3 * Size * Size], new float[3 * Size * Size] };
        var nan = (await fixture.Node.Client.UploadModelAsync(
            SyntheticModels.Linear(Size, Size, zeros, bias: [float.NaN, float.NegativeInfinity]), "nan.onnx")).Sha256;
        var request = Valid();
        request.ModelSha256 = nan;
        request.Occlusion = TestJobs.Occlusion((1, 1));

        var jobId = (await Api.SubmitJobAsync(request, deadline: Deadline())).JobId;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var final = await fixture.Node.Client.WatchAsync(jobId, _ => { }, timeout.Token);

        Assert.Equal(ApiJobState.Failed, final.State);
        Assert.Contains("the model's output for the unperturbed image is not finite (NaN at index 0)", final.Error);
        Assert.Equal(0, final.Evaluations); // no perturbation was evaluated
        await AssertNodeStillServesAsync();
    }

    [Fact]
    public async Task A_job_id_of_100000_characters_is_not_found_and_not_echoed_whole()
    {
        var jobId = new string('a', 100_000);

        var error = await FailsWith(StatusCode.NotFound,
            async () => await Api.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: Deadline()));

        Assert.True(error.Status.Detail.Length < 200, $"the message has {error.Status.Detail.Length} characters");
        Assert.Contains("(100,000 characters; job ids have 32)", error.Status.Detail);
    }

    [Fact]
    public async Task An_upload_chunk_over_the_grpc_message_limit_is_resource_exhausted()
    {
        using var call = Api.UploadImage(deadline: Deadline());

        // The server refuses the message as its header arrives and stops reading, so the client's write of it may never
        // complete (HTTP/2 flow control): the call's answer is awaited, not the write (a CI run hung on awaiting it).
        var answered = await SendUntilAnsweredAsync(call, [new UploadChunk { Data = ByteString.CopyFrom(new byte[(16 << 20) + 1]) }]);
        var error = await FailsWith(StatusCode.ResourceExhausted, async () => await answered);

        Assert.Contains("message", error.Status.Detail, StringComparison.OrdinalIgnoreCase);
        await AssertNodeStillServesAsync();
    }

    [Fact]
    public async Task An_image_upload_over_the_size_limit_is_refused_when_the_limit_is_passed_not_at_the_end()
    {
        using var call = Api.UploadImage(deadline: Deadline());
        var chunk = new UploadChunk { Data = ByteString.CopyFrom(new byte[8 << 20]) };

        // 100 MiB is the limit: the 13th chunk passes it; the server refuses and the stream ends long before 40.
        var chunks = Enumerable.Repeat(chunk, 40).ToList();
        var answered = await SendUntilAnsweredAsync(call, chunks);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await answered);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("larger than the 100 MiB limit", error.Status.Detail);
        Assert.True(_written < 40, "the server read every chunk before refusing");
    }

    [Fact]
    public async Task The_clients_upload_of_an_image_over_the_size_limit_ends_with_the_refusal()
    {
        // 120 MiB in the client's own chunks: the gateway refuses past 100 MiB, and the upload must end with that answer
        // rather than wait on a write the gateway will never read (the bound only turns such a hang into a failure).
        var upload = fixture.Node.Client.UploadImageAsync(new byte[120 << 20], "huge.png").WaitAsync(TimeSpan.FromMinutes(2));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await upload);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("larger than the 100 MiB limit", error.Status.Detail);
    }

    private int _written;

    private Task<Task<ArtifactRef>> SendUntilAnsweredAsync(AsyncClientStreamingCall<UploadChunk, ArtifactRef> call,
        IReadOnlyList<UploadChunk> chunks)
    {
        _written = 0;
        return ClientStreamUpload.SendUntilAnsweredAsync(call, chunks, () => _written++);
    }

    [Fact]
    public async Task Cancelling_a_finished_job_answers_its_done_state_and_keeps_its_result()
    {
        var jobId = (await Api.SubmitJobAsync(Valid(), deadline: Deadline())).JobId;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await fixture.Node.Client.WatchAsync(jobId, _ => { }, timeout.Token);

        var cancelled = await Api.CancelJobAsync(new CancelJobRequest { JobId = jobId }, deadline: Deadline());

        Assert.Equal(ApiJobState.Done, cancelled.State);
        Assert.Single((await Api.GetResultAsync(new GetResultRequest { JobId = jobId }, deadline: Deadline())).Maps);
    }

    [Fact]
    public async Task A_one_pixel_image_is_accepted_and_a_window_larger_than_it_is_refused()
    {
        var image = (await fixture.Node.Client.UploadImageAsync(TestImages.Noise(1, 1, seed: 4), "dot.png")).Image;
        Assert.Equal((1, 1), (image.Width, image.Height));

        var request = Valid();
        request.ImageSha256 = (await fixture.Node.Client.UploadImageAsync(TestImages.Noise(1, 1, seed: 4), "dot.png")).Sha256;
        var error = await FailsWith(StatusCode.InvalidArgument, async () => await Api.SubmitJobAsync(request, deadline: Deadline()));

        Assert.Contains("larger than the 1x1 image", error.Status.Detail);
    }
}
