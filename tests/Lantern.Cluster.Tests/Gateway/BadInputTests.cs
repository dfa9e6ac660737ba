using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Gateway;

/// <summary>One real node for every bad-input test, with a small synthetic model and image already uploaded.</summary>
public sealed class GatewayNodeFixture : IAsyncLifetime
{
    public const int Size = 8;

    /// <summary>Large enough (two scales of 1- and 2-pixel windows, stride 1, over 224x224: ~100k evaluations) to still be running when looked at.</summary>
    public const int SlowSize = 224;

    public TestNode Node { get; private set; } = null!;
    public byte[] Model { get; } = SyntheticModels.SquareBrightness(Size, Size, (2, 2, 4, 4));
    public byte[] Image { get; } = TestImages.Noise(Size, Size, seed: 7);
    public string ModelSha256 { get; private set; } = "";
    public string ImageSha256 { get; private set; } = "";
    public string SlowModelSha256 { get; private set; } = "";
    public string SlowImageSha256 { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Node = await TestNode.StartAsync();
        ModelSha256 = (await Node.Client.UploadModelAsync(Model, "square.onnx")).Sha256;
        ImageSha256 = (await Node.Client.UploadImageAsync(Image, "noise.png")).Sha256;
        SlowModelSha256 = (await Node.Client.UploadModelAsync(
            SyntheticModels.SquareBrightness(SlowSize, SlowSize, (50, 50, 100, 100)), "square224.onnx")).Sha256;
        SlowImageSha256 = (await Node.Client.UploadImageAsync(TestImages.Noise(SlowSize, SlowSize, seed: 8), "noise224.png")).Sha256;
    }

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>
/// Errors are answers (DESIGN invariant 5): every bad input gets the right gRPC status and a message that says what to
/// change, and the node goes on serving.
/// </summary>
public sealed class BadInputTests(GatewayNodeFixture fixture) : IClassFixture<GatewayNodeFixture>
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    private Contracts.Api.Lantern.LanternClient Api => fixture.Node.Api;

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    private SubmitJobRequest ValidSubmit() => new()
    {
        ModelSha256 = fixture.ModelSha256,
        ImageSha256 = fixture.ImageSha256,
        Preprocessing = TestJobs.Identity(GatewayNodeFixture.Size, GatewayNodeFixture.Size),
        Targets = new Targets { Classes = { 0 } },
        Occlusion = TestJobs.Occlusion((2, 2)),
        Name = "valid",
    };

    private SubmitJobRequest SlowSubmit() => new()
    {
        ModelSha256 = fixture.SlowModelSha256,
        ImageSha256 = fixture.SlowImageSha256,
        Preprocessing = TestJobs.Identity(GatewayNodeFixture.SlowSize, GatewayNodeFixture.SlowSize),
        Targets = new Targets { Classes = { 0 } },
        Occlusion = TestJobs.Occlusion((1, 1), (2, 1)),
        Name = "slow",
    };

    private static async Task<RpcException> FailsWith(StatusCode code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, error.StatusCode);
        return error;
    }

    /// <summary>A valid small job on the synthetic model runs to the end and has its map: the node still serves.</summary>
    private async Task AssertNodeStillServesAsync()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        var jobId = (await Api.SubmitJobAsync(ValidSubmit(), deadline: Deadline())).JobId;
        var final = await fixture.Node.Client.WatchAsync(jobId, _ => { }, timeout.Token);
        Assert.Equal(ApiJobState.Done, final.State);
        var result = await Api.GetResultAsync(new GetResultRequest { JobId = jobId }, deadline: Deadline());
        var map = Assert.Single(result.Maps);
        Assert.Equal(GatewayNodeFixture.Size * GatewayNodeFixture.Size, TestJobs.Floats(map).Length);
    }

    private async Task<JobProgress> WaitForStateAsync(string jobId, Func<ApiJobState, bool> condition)
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        while (true)
        {
            var progress = await Api.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: Deadline());
            if (condition(progress.State)) return progress;
            await Task.Delay(20, timeout.Token);
        }
    }

    private static byte[] Png(int width, int height) => TestImages.Noise(width, height, seed: 3);

    private static byte[] Jpeg(int width, int height)
    {
        var random = new Random(5);
        using var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream);
        return stream.ToArray();
    }

    // ---- uploads ----

    public static TheoryData<string> BadImages => ["garbage", "truncated png", "truncated jpeg"];

    private static (byte[] Bytes, string Phrase) BadImage(string kind) => kind switch
    {
        "garbage" => (RandomBytes(4096, seed: 11), "not a readable image"),
        "truncated png" => (Png(64, 64)[..^200], "cut off"),
        "truncated jpeg" => (Jpeg(64, 64)[..^300], "cut off"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(BadImages))]
    public async Task An_image_upload_that_is_not_a_whole_image_is_an_invalid_argument_that_says_so(string kind)
    {
        var (bytes, phrase) = BadImage(kind);

        var error = await FailsWith(StatusCode.InvalidArgument, () => fixture.Node.Client.UploadImageAsync(bytes, "bad.png"));

        Assert.Contains(phrase, error.Status.Detail);
        Assert.Contains("JPEG, PNG", error.Status.Detail); // says what to send instead
        await AssertNodeStillServesAsync();
    }

    public static TheoryData<string> BadModels => ["random bytes", "text file", "truncated model"];

    private byte[] BadModel(string kind) => kind switch
    {
        "random bytes" => RandomBytes(4096, seed: 13),
        "text file" => Encoding.UTF8.GetBytes("This is a README, not a neural network.\nIt has two lines.\n"),
        "truncated model" => fixture.Model[..(fixture.Model.Length / 2)],
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(BadModels))]
    public async Task A_model_upload_that_is_not_an_ONNX_model_is_an_invalid_argument_that_says_so(string kind)
    {
        var bytes = BadModel(kind);

        var error = await FailsWith(StatusCode.InvalidArgument, () => fixture.Node.Client.UploadModelAsync(bytes, "bad.onnx"));

        Assert.Contains("not an ONNX model", error.Status.Detail);
        await AssertNodeStillServesAsync();
    }

    [Fact]
    public async Task An_empty_upload_is_an_invalid_argument_that_asks_for_the_file()
    {
        var model = await FailsWith(StatusCode.InvalidArgument, () => fixture.Node.Client.UploadModelAsync([], "empty.onnx"));
        var image = await FailsWith(StatusCode.InvalidArgument, () => fixture.Node.Client.UploadImageAsync([], "empty.png"));

        Assert.Contains("empty", model.Status.Detail);
        Assert.Contains("empty", image.Status.Detail);
    }

    [Fact]
    public async Task Uploading_the_same_bytes_twice_returns_the_same_sha256_and_says_they_were_already_present()
    {
        var bytes = TestImages.Noise(9, 5, seed: Environment.TickCount);

        var first = await fixture.Node.Client.UploadImageAsync(bytes, "a.png");
        var second = await fixture.Node.Client.UploadImageAsync(bytes, "b.png");

        Assert.False(first.AlreadyPresent);
        Assert.True(second.AlreadyPresent);
        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Equal((9, 5), (second.Image.Width, second.Image.Height));
        Assert.Equal(bytes.Length, second.Size);
    }

    [Fact]
    public async Task Uploading_the_same_model_twice_returns_the_same_sha256_and_its_shape()
    {
        var again = await fixture.Node.Client.UploadModelAsync(fixture.Model, "again.onnx");

        Assert.True(again.AlreadyPresent);
        Assert.Equal(fixture.ModelSha256, again.Sha256);
        Assert.Equal(2, again.Model.ClassCount);
    }

    // ---- submit ----

    public static TheoryData<string> BadSubmits =>
    [
        "window larger than the image", "stride 0", "negative stride", "unknown border", "window 0", "class 1000", "class -1",
        "top_k too large", "no method", "malformed model sha256", "malformed image sha256",
    ];

    private (SubmitJobRequest Request, string Phrase) BadSubmit(string kind)
    {
        var request = ValidSubmit();
        switch (kind)
        {
            case "window larger than the image":
                request.Occlusion = TestJobs.Occlusion((9, 1));
                return (request, "larger than the 8x8 image; use a window of at most 8");
            case "stride 0":
                request.Occlusion = TestJobs.Occlusion((2, 0));
                return (request, "stride must be at least 1 pixel");
            case "negative stride":
                request.Occlusion = TestJobs.Occlusion((2, -2));
                return (request, "stride must be at least 1 pixel");
            case "unknown border":
                request.Occlusion.Border = "matlab";
                return (request, "border 'matlab' is not one of: captum");
            case "window 0":
                request.Occlusion = TestJobs.Occlusion((0, 1));
                return (request, "must be at least 1x1 pixel");
            case "class 1000":
                request.Targets = new Targets { Classes = { 1000 } };
                return (request, "class index 1000 is out of range: the model has 2 classes (0 to 1)");
            case "class -1":
                request.Targets = new Targets { Classes = { -1 } };
                return (request, "class index -1 is out of range: the model has 2 classes (0 to 1)");
            case "top_k too large":
                request.Targets = new Targets { TopK = 3 };
                return (request, "top_k must be between 1 and 2");
            case "no method":
                request.ClearMethod();
                return (request, "choose an explanation method");
            case "malformed model sha256":
                request.ModelSha256 = "model.onnx";
                return (request, "use the sha256 (64 lowercase hex digits) that UploadModel returned");
            case "malformed image sha256":
                request.ImageSha256 = fixture.ImageSha256.ToUpperInvariant();
                return (request, "use the sha256 (64 lowercase hex digits) that UploadImage returned");
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    [Theory]
    [MemberData(nameof(BadSubmits))]
    public async Task A_submit_with_a_bad_parameter_is_an_invalid_argument_that_says_what_to_change(string kind)
    {
        var (request, phrase) = BadSubmit(kind);

        var error = await FailsWith(StatusCode.InvalidArgument, async () => await Api.SubmitJobAsync(request, deadline: Deadline()));

        Assert.Contains(phrase, error.Status.Detail);
        await AssertNodeStillServesAsync();
    }

    [Fact]
    public async Task A_submit_for_a_model_never_uploaded_is_not_found_and_says_to_upload_it()
    {
        var request = ValidSubmit();
        request.ModelSha256 = new string('0', 64);

        var error = await FailsWith(StatusCode.NotFound, async () => await Api.SubmitJobAsync(request, deadline: Deadline()));

        Assert.Contains("upload it first with UploadModel", error.Status.Detail);
        await AssertNodeStillServesAsync();
    }

    [Fact]
    public async Task A_submit_for_an_image_never_uploaded_is_not_found_and_says_to_upload_it()
    {
        var request = ValidSubmit();
        request.ImageSha256 = new string('f', 64);

        var error = await FailsWith(StatusCode.NotFound, async () => await Api.SubmitJobAsync(request, deadline: Deadline()));

        Assert.Contains("upload it first with UploadImage", error.Status.Detail);
        await AssertNodeStillServesAsync();
    }

    // ---- job ids ----

    public static TheoryData<string> JobRpcs => ["GetJob", "WatchJob", "GetResult", "CancelJob"];

    private Task CallWithJobId(string rpc, string jobId) => rpc switch
    {
        "GetJob" => Api.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: Deadline()).ResponseAsync,
        "GetResult" => Api.GetResultAsync(new GetResultRequest { JobId = jobId }, deadline: Deadline()).ResponseAsync,
        "CancelJob" => Api.CancelJobAsync(new CancelJobRequest { JobId = jobId }, deadline: Deadline()).ResponseAsync,
        "WatchJob" => FirstProgressAsync(jobId),
        _ => throw new ArgumentOutOfRangeException(nameof(rpc)),
    };

    private async Task FirstProgressAsync(string jobId)
    {
        using var call = Api.WatchJob(new WatchJobRequest { JobId = jobId }, deadline: Deadline());
        await call.ResponseStream.MoveNext(CancellationToken.None);
    }

    [Theory]
    [MemberData(nameof(JobRpcs))]
    public async Task An_unknown_job_id_is_not_found_and_names_the_id(string rpc)
    {
        var jobId = Guid.NewGuid().ToString("N");

        var error = await FailsWith(StatusCode.NotFound, () => CallWithJobId(rpc, jobId));

        Assert.Contains($"no job with id '{jobId}'", error.Status.Detail);
        await AssertNodeStillServesAsync();
    }

    [Theory]
    [MemberData(nameof(JobRpcs))]
    public async Task A_job_id_that_could_never_exist_is_not_found(string rpc)
    {
        var error = await FailsWith(StatusCode.NotFound, () => CallWithJobId(rpc, "../../etc/passwd"));

        Assert.Contains("no job with id", error.Status.Detail);
    }

    [Theory]
    [MemberData(nameof(JobRpcs))]
    public async Task A_missing_job_id_is_an_invalid_argument(string rpc)
    {
        var error = await FailsWith(StatusCode.InvalidArgument, () => CallWithJobId(rpc, ""));

        Assert.Contains("job_id is required", error.Status.Detail);
    }

    // ---- job life cycle ----

    [Fact]
    public async Task The_result_of_a_job_that_is_not_done_is_a_failed_precondition_that_says_to_watch_it()
    {
        var jobId = (await Api.SubmitJobAsync(SlowSubmit(), deadline: Deadline())).JobId;
        try
        {
            var error = await FailsWith(StatusCode.FailedPrecondition,
                async () => await Api.GetResultAsync(new GetResultRequest { JobId = jobId }, deadline: Deadline()));

            Assert.Contains("is not done yet", error.Status.Detail);
            Assert.Contains("WatchJob", error.Status.Detail);
        }
        finally
        {
            await Api.CancelJobAsync(new CancelJobRequest { JobId = jobId }, deadline: Deadline());
        }
        await AssertNodeStillServesAsync();
    }

    [Fact]
    public async Task Cancelling_a_running_job_cancels_it_and_leaves_it_without_a_result()
    {
        var jobId = (await Api.SubmitJobAsync(SlowSubmit(), deadline: Deadline())).JobId;
        var running = await WaitForStateAsync(jobId, s => s != ApiJobState.Queued);
        Assert.Equal(ApiJobState.Running, running.State);

        var cancelled = await Api.CancelJobAsync(new CancelJobRequest { JobId = jobId }, deadline: Deadline());

        Assert.Equal(ApiJobState.Cancelled, cancelled.State);
        Assert.True(cancelled.FinishedUnixMs > 0);
        Assert.Equal(ApiJobState.Cancelled, (await Api.GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: Deadline())).State);
        var error = await FailsWith(StatusCode.FailedPrecondition,
            async () => await Api.GetResultAsync(new GetResultRequest { JobId = jobId }, deadline: Deadline()));
        Assert.Contains("was cancelled", error.Status.Detail);
        await AssertNodeStillServesAsync();
    }

    [Fact]
    public async Task Cancelling_a_job_twice_answers_its_cancelled_state_again()
    {
        var jobId = (await Api.SubmitJobAsync(SlowSubmit(), deadline: Deadline())).JobId;
        await Api.CancelJobAsync(new CancelJobRequest { JobId = jobId }, deadline: Deadline());

        var again = await Api.CancelJobAsync(new CancelJobRequest { JobId = jobId }, deadline: Deadline());

        Assert.Equal(ApiJobState.Cancelled, again.State);
    }

    [Fact]
    public async Task Listing_jobs_lists_the_jobs_submitted()
    {
        var first = ValidSubmit();
        first.Name = "listed-one";
        var second = ValidSubmit();
        second.Name = "listed-two";
        var ids = new[]
        {
            (await Api.SubmitJobAsync(first, deadline: Deadline())).JobId,
            (await Api.SubmitJobAsync(second, deadline: Deadline())).JobId,
        };

        var listed = (await Api.ListJobsAsync(new ListJobsRequest(), deadline: Deadline())).Jobs;

        Assert.Contains(listed, j => j.JobId == ids[0] && j.Name == "listed-one");
        Assert.Contains(listed, j => j.JobId == ids[1] && j.Name == "listed-two");
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
