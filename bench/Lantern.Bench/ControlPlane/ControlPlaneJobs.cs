using System.Diagnostics;
using Grpc.Core;
using Lantern.Contracts.Api;

namespace Lantern.Bench.ControlPlane;

/// <summary>One (time, progress) observation of a job, with the node's CPU seconds, RSS and JIT milliseconds at that time.</summary>
public sealed record JobSample(double Seconds, long ItemsDone, long ItemsTotal, JobState State, double CpuSeconds, double RssMb, double JitMilliseconds);

/// <summary>Uploads the tiny model and images to a bench node, submits the bench's jobs and follows them by polling GetJob.</summary>
public sealed class ControlPlaneJobs(BenchNode node)
{
    public BenchNode Node => node;

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private string? _model;

    public async Task<SubmitJobRequest> PrepareAsync(int side)
    {
        _model ??= (await node.Client.UploadModelAsync(TinyModel.Onnx(), "bench-tiny.onnx")).Sha256;
        var image = (await node.Client.UploadImageAsync(TinyModel.Image(side), $"bench-{side}.png")).Sha256;
        return TinyModel.Occlusion(_model, image);
    }

    /// <summary>RISE on an image of the model's input size: <paramref name="items"/> work items of <paramref name="itemSize"/> masks.</summary>
    public async Task<SubmitJobRequest> PrepareRiseAsync(long items, int itemSize)
    {
        _model ??= (await node.Client.UploadModelAsync(TinyModel.Onnx(), "bench-tiny.onnx")).Sha256;
        var image = (await node.Client.UploadImageAsync(TinyModel.Image(TinyModel.InputSize), "bench-input-sized.png")).Sha256;
        return TinyModel.Rise(_model, image, (int)(items * itemSize));
    }

    public async Task<string> SubmitAsync(SubmitJobRequest request) => (await node.Client.Api.SubmitJobAsync(request)).JobId;

    public async Task<JobProgress> GetAsync(string jobId, TimeSpan? deadline = null) =>
        await node.Client.Api.GetJobAsync(new GetJobRequest { JobId = jobId },
            deadline: DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(60)));

    /// <summary>
    /// Polls the job every 100 ms until <paramref name="until"/> holds, it fails, or <paramref name="bound"/> passes;
    /// every poll is a sample (with the node's CPU and RSS, or <paramref name="rssOf"/>'s).
    /// </summary>
    public async Task<List<JobSample>> FollowAsync(string jobId, Func<JobProgress, bool> until, TimeSpan bound, BenchNode? rssOf = null)
    {
        var samples = new List<JobSample>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var progress = await GetAsync(jobId);
            samples.Add(new JobSample(clock.Elapsed.TotalSeconds, progress.ItemsDone, progress.ItemsTotal, progress.State,
                node.CpuSeconds(), (rssOf ?? node).RssMb, node.JitMilliseconds));
            if (progress.State is JobState.Failed or JobState.Cancelled)
                throw new InvalidOperationException($"bench job {jobId} ended {progress.State}: {progress.Error}");
            if (until(progress) || clock.Elapsed > bound) return samples;
            await Task.Delay(Poll);
        }
    }

    public static bool IsDone(JobProgress progress) => progress.State == JobState.Done;

    /// <summary>Submits <paramref name="count"/> copies of a request, a few at a time, and returns their ids in order.</summary>
    public async Task<List<string>> SubmitManyAsync(SubmitJobRequest request, int count, int concurrency = 8)
    {
        var ids = new string[count];
        using var gate = new SemaphoreSlim(concurrency);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                ids[i] = await SubmitAsync(request);
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. ids];
    }

    /// <summary>Waits for each job in turn until it is done (the ones done already answer at once).</summary>
    public async Task WaitAllDoneAsync(IEnumerable<string> jobIds, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        foreach (var id in jobIds)
        {
            while (true)
            {
                if (clock.Elapsed > bound) throw new TimeoutException($"jobs were not all done after {bound.TotalSeconds:0} s");
                try
                {
                    var progress = await GetAsync(id);
                    if (progress.State is JobState.Done or JobState.Failed or JobState.Cancelled) break;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                    // a busy coordinator; ask again
                }
                await Task.Delay(Poll);
            }
        }
    }
}
