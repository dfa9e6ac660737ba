using Akka.Actor;
using Akka.Hosting;
using Grpc.Core;
using Lantern.Contracts.Api;
using Lantern.Contracts.Cluster;
using Lantern.Contracts.Messages;
using Lantern.Gateway.Hosting;
using Lantern.Gateway.Mapping;
using ApiCancelJob = Lantern.Contracts.Api.CancelJobRequest;
using ApiJobState = Lantern.Contracts.Api.JobState;
using Status = Grpc.Core.Status;

namespace Lantern.Gateway.Services;

/// <summary>The gRPC front door: validate, map, ask the job's entity, map back.</summary>
public sealed class LanternService(
    IRequiredActor<JobRegionKey> jobs,
    IRequiredActor<JobIndexKey> index,
    ArtifactCatalog catalog,
    JobRequestMapping requests,
    JobResultMapping results,
    GatewayOptions options) : Contracts.Api.Lantern.LanternBase
{
    public override async Task<ArtifactRef> UploadModel(IAsyncStreamReader<UploadChunk> requestStream, ServerCallContext context)
    {
        var bytes = await ReadUploadAsync(requestStream, "model", context.CancellationToken);
        var (put, info) = await catalog.PutModelAsync(bytes, context.CancellationToken);
        return new ArtifactRef
        {
            Sha256 = put.Sha256, Size = put.Size, AlreadyPresent = put.AlreadyPresent, Model = JobResultMapping.ToApi(info),
        };
    }

    public override async Task<ArtifactRef> UploadImage(IAsyncStreamReader<UploadChunk> requestStream, ServerCallContext context)
    {
        var bytes = await ReadUploadAsync(requestStream, "image", context.CancellationToken);
        var (put, image) = await catalog.PutImageAsync(bytes, context.CancellationToken);
        return new ArtifactRef
        {
            Sha256 = put.Sha256, Size = put.Size, AlreadyPresent = put.AlreadyPresent,
            Image = new ImageInfo { Width = image.Width, Height = image.Height },
        };
    }

    public override async Task<SubmitJobResponse> SubmitJob(SubmitJobRequest request, ServerCallContext context)
    {
        var spec = await requests.ToSpecAsync(request, context.CancellationToken);
        var jobId = Guid.NewGuid().ToString("N");
        await AskAsync<JobStatusResult>(new StartJob
        {
            JobId = jobId, Spec = spec, SubmittedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        }, context);
        return new SubmitJobResponse { JobId = jobId };
    }

    public override async Task<JobProgress> GetJob(GetJobRequest request, ServerCallContext context) =>
        await StatusAsync(request.JobId, context);

    public override async Task WatchJob(WatchJobRequest request, IServerStreamWriter<JobProgress> responseStream, ServerCallContext context)
    {
        // An update whenever the work moved, and at least every HeartbeatInterval while nothing did, so a client sees the
        // rate fall and the time left change on a job whose work items take long. Rate and time left alone, which
        // change on every poll, do not make an update.
        JobProgress? last = null;
        var sentAt = TimeSpan.Zero;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var progress = await StatusAsync(request.JobId, context);
            if (last is null || Moved(last, progress) || clock.Elapsed - sentAt >= options.WatchHeartbeat)
            {
                await responseStream.WriteAsync(progress, context.CancellationToken);
                sentAt = clock.Elapsed;
                last = progress;
            }
            if (IsFinished(progress.State)) return;
            await Task.Delay(options.WatchInterval, context.CancellationToken);
        }
    }

    private static bool Moved(JobProgress before, JobProgress now)
    {
        var a = before.Clone();
        var b = now.Clone();
        a.EvaluationsPerSecond = b.EvaluationsPerSecond = 0;
        a.ClearSecondsLeft();
        b.ClearSecondsLeft();
        return !a.Equals(b);
    }

    public override async Task<JobResult> GetResult(GetResultRequest request, ServerCallContext context)
    {
        var reply = await AskAsync<JobResultReply>(new GetJobResult { JobId = CheckJobId(request.JobId) }, context);
        switch (reply.Progress.State)
        {
            case ApiJobState.Failed:
                GrpcErrors.FailedPrecondition($"job {request.JobId} failed: {reply.Progress.Error}");
                break;
            case ApiJobState.Cancelled:
                GrpcErrors.FailedPrecondition($"job {request.JobId} was cancelled; it has no result");
                break;
            case not ApiJobState.Done:
                GrpcErrors.FailedPrecondition(
                    $"job {request.JobId} is not done yet ({reply.Progress.ItemsDone}/{reply.Progress.ItemsTotal} work items); watch it with WatchJob");
                break;
        }
        return await results.ToApiAsync(reply, request.IncludeOverlays, context.CancellationToken);
    }

    public override async Task<JobProgress> CancelJob(ApiCancelJob request, ServerCallContext context) =>
        (await AskAsync<JobStatusResult>(new Contracts.Messages.CancelJob { JobId = CheckJobId(request.JobId) }, context)).Progress;

    public override async Task<DeleteJobResponse> DeleteJob(DeleteJobRequest request, ServerCallContext context)
    {
        await AskAsync<JobDeletedReply>(new Contracts.Messages.DeleteJob { JobId = CheckJobId(request.JobId) }, context);
        return new DeleteJobResponse();
    }

    /// <summary>One message to the job index, however many jobs the cluster has run.</summary>
    public override async Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        var query = JobListMapping.ToQuery(request, new IndexViewer { Everyone = true });
        try
        {
            return JobListMapping.ToApi(await index.ActorRef.Ask<JobIndexPage>(query, options.AskTimeout, context.CancellationToken));
        }
        catch (AskTimeoutException)
        {
            GrpcErrors.Unavailable($"the job index did not answer within {options.AskTimeout.TotalSeconds:0} s; try again");
            throw;
        }
        catch (ArgumentException e)
        {
            GrpcErrors.InvalidArgument(e.Message);
            throw;
        }
    }

    private async Task<JobProgress> StatusAsync(string jobId, ServerCallContext context) =>
        (await AskAsync<JobStatusResult>(new GetJobStatus { JobId = CheckJobId(jobId) }, context)).Progress;

    private async Task<T> AskAsync<T>(IJobCommand command, ServerCallContext context)
    {
        object reply;
        try
        {
            reply = await jobs.ActorRef.Ask<object>(command, options.AskTimeout, context.CancellationToken);
        }
        catch (AskTimeoutException)
        {
            GrpcErrors.Unavailable($"the coordinator did not answer within {options.AskTimeout.TotalSeconds:0} s; try again");
            throw;
        }
        return reply switch
        {
            T expected => expected,
            JobRejected rejected => throw new RpcException(new Status(StatusCode.NotFound, rejected.Reason)),
            _ => throw new RpcException(new Status(StatusCode.Internal, $"unexpected reply {reply.GetType().Name}")),
        };
    }

    private static string CheckJobId(string jobId)
    {
        if (string.IsNullOrWhiteSpace(jobId)) GrpcErrors.InvalidArgument("job_id is required");
        if (jobId.Length > 64 || !jobId.All(char.IsAsciiLetterOrDigit))
            GrpcErrors.NotFound($"no job with id '{jobId}'");
        return jobId;
    }

    private static bool IsFinished(ApiJobState state) =>
        state is ApiJobState.Done or ApiJobState.Failed or ApiJobState.Cancelled;

    private async Task<byte[]> ReadUploadAsync(IAsyncStreamReader<UploadChunk> chunks, string kind, CancellationToken cancellationToken)
    {
        var limit = catalog.MaxBytes(kind);
        using var buffer = new MemoryStream();
        await foreach (var chunk in chunks.ReadAllAsync(cancellationToken))
        {
            if (buffer.Length + chunk.Data.Length > limit)
                GrpcErrors.ResourceExhausted($"the {kind} is larger than the {limit / (1 << 20)} MiB limit");
            chunk.Data.WriteTo(buffer);
        }
        return buffer.ToArray();
    }
}
