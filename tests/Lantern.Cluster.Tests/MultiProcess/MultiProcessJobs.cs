using System.Text.Json.Nodes;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>
/// The synthetic job the multi-process tests run: a linear model whose class 0 is the brightness of one square, on a
/// noise image, explained by occlusion with small windows at stride 1 so a job has hundreds of work items (long enough
/// to interrupt) while each evaluation is cheap.
/// </summary>
public static class MultiProcessJobs
{
    public const int Size = 96;
    public static readonly byte[] Model = SyntheticModels.SquareBrightness(Size, Size, (30, 18, 36, 24));
    public static readonly byte[] Image = TestImages.Noise(Size, Size, seed: 11);

    /// <summary>Occlusion of both classes with a <paramref name="window"/>² patch at stride 1: (Size − window + 1)² evaluations.</summary>
    public static SubmitJobRequest Request(int window = 2, int stride = 1, Fill.Types.Kind fill = Fill.Types.Kind.Zero)
    {
        var request = new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size),
            Targets = new Targets { Classes = { 0, 1 } },
            Occlusion = TestJobs.Occlusion((window, stride)),
        };
        request.Occlusion.Fill.Kind = fill;
        return request;
    }

    /// <summary>
    /// Occlusion at three scales (2², 3², 4² at stride 1: 26 510 windows, 829 work items) for the tests that kill a node
    /// mid-job: long enough that the job is still running when the kill lands, even on a fast machine.
    /// </summary>
    public static SubmitJobRequest LongRequest()
    {
        var request = Request();
        request.Occlusion = TestJobs.Occlusion((2, 1), (3, 1), (4, 1));
        return request;
    }

    /// <summary>Windows over all of the request's scales, placed as Captum places them (the last one clipped at the border).</summary>
    public static long Evaluations(SubmitJobRequest request) =>
        request.Occlusion.Windows.Sum(w => (long)Positions(Size - w.Height, w.StrideY) * Positions(Size - w.Width, w.StrideX));

    private static int Positions(int room, int stride) => (room + stride - 1) / stride + 1;

    /// <summary>
    /// Uploads the model and image and submits; returns the job id. Always computed (no_cache): these tests are about
    /// the work the cluster does, and a request they repeat would otherwise be answered from its first run.
    /// </summary>
    public static async Task<string> SubmitAsync(ExplainClient client, SubmitJobRequest request)
    {
        var submit = request.Clone();
        submit.NoCache = true;
        submit.ModelSha256 = (await client.UploadModelAsync(Model, "square.onnx")).Sha256;
        submit.ImageSha256 = (await client.UploadImageAsync(Image, "noise.png")).Sha256;
        return (await client.Api.SubmitJobAsync(submit)).JobId;
    }

    /// <summary>Watches the job until <paramref name="condition"/> holds (returns that progress) or the job ends without it.</summary>
    public static async Task<JobProgress> WatchUntilAsync(ExplainClient client, string jobId, Func<JobProgress, bool> condition,
        TimeSpan timeout, Action<JobProgress>? onProgress = null)
    {
        using var deadline = new CancellationTokenSource(timeout);
        using var call = client.Api.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: deadline.Token);
        JobProgress? last = null;
        try
        {
            while (await call.ResponseStream.MoveNext(deadline.Token))
            {
                last = call.ResponseStream.Current;
                onProgress?.Invoke(last);
                if (condition(last)) return last;
            }
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.Cancelled && deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"job {jobId} did not reach the condition within {timeout}; last progress {last}");
        }
        throw new InvalidOperationException($"job {jobId} ended without reaching the condition; last progress {last}");
    }

    public static Task<JobProgress> WaitDoneAsync(ExplainClient client, string jobId, TimeSpan timeout,
        Action<JobProgress>? onProgress = null) =>
        WatchUntilAsync(client, jobId, p => p.State is JobState.Done or JobState.Failed or JobState.Cancelled, timeout, onProgress);

    public static async Task<JobResult> ResultAsync(ExplainClient client, string jobId) =>
        await client.Api.GetResultAsync(new GetResultRequest { JobId = jobId });

    /// <summary>The same request on a one-node in-process cluster: the reference every distributed run must match bit for bit.</summary>
    public static async Task<JobResult> ReferenceAsync(SubmitJobRequest request)
    {
        await using var node = await TestNode.StartAsync();
        var jobId = await SubmitAsync(node.Client, request);
        var final = await WaitDoneAsync(node.Client, jobId, TimeSpan.FromMinutes(3));
        Assert.Equal(JobState.Done, final.State);
        return await ResultAsync(node.Client, jobId);
    }

    public static void AssertSameMaps(JobResult expected, JobResult actual)
    {
        Assert.Equal(expected.Maps.Count, actual.Maps.Count);
        Assert.NotEmpty(expected.Maps);
        foreach (var (e, a) in expected.Maps.Zip(actual.Maps))
        {
            Assert.Equal((e.TargetClass, e.Window, e.Height, e.Width), (a.TargetClass, a.Window, a.Height, a.Width));
            Assert.True(e.Data.Span.SequenceEqual(a.Data.Span), $"map of class {e.TargetClass} differs");
        }
    }

    public static IReadOnlyList<string> Workers(JobResult result) =>
        [.. JsonNode.Parse(result.SummaryJson)!["workers"]!.AsArray().Select(w => w!.GetValue<string>())];
}
