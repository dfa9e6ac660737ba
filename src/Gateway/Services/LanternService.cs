using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Hosting;
using Grpc.Core;
using Lantern.Contracts.Api;
using Lantern.Contracts.Cluster;
using Lantern.Contracts.Messages;
using Lantern.Gateway.Auth;
using Lantern.Gateway.Hosting;
using Lantern.Gateway.Mapping;
using Lantern.Gateway.Quotas;
using Lantern.Gateway.Uploads;
using Lantern.Methods;
using Lantern.Storage;
using Lantern.Storage.Users;
using ApiCancelJob = Lantern.Contracts.Api.CancelJobRequest;
using ApiJobState = Lantern.Contracts.Api.JobState;
using Status = Grpc.Core.Status;

namespace Lantern.Gateway.Services;

/// <summary>
/// The gRPC front door: identify the caller, check what they may see and use, validate, map, ask the job's entity,
/// map back. Another user's job answers exactly as a job that does not exist.
/// </summary>
public sealed class LanternService(
    IRequiredActor<JobRegionKey> jobs,
    IRequiredActor<JobIndexKey> index,
    IRequiredActor<DatasetJobRegionKey> datasetJobs,
    ArtifactCatalog catalog,
    RegisteredDatasets datasets,
    DatasetRanking ranking,
    JobRequestMapping requests,
    JobResultMapping results,
    QuotaPolicy quotas,
    ResultReuse reuse,
    GatewayOptions options) : Contracts.Api.Lantern.LanternBase
{
    /// <summary>Null on a node without the database (a worker-only node's gateway), which is then open.</summary>
    private UserStore? Users => quotas.Users;

    public override async Task<ArtifactRef> UploadModel(IAsyncStreamReader<UploadChunk> requestStream, ServerCallContext context)
    {
        var caller = context.Caller();
        var limits = await quotas.ForAsync(caller, context.CancellationToken);
        // Spooled to disk as it arrives: a model of hundreds of megabytes is never whole in this process's memory.
        await using var upload = new SpooledUpload();
        await ReadUploadAsync(requestStream, "model", caller, limits, upload.AppendAsync, context.CancellationToken);
        var (put, info) = await catalog.PutModelAsync(upload, context.CancellationToken);
        await RecordUploadAsync(caller, put, context.CancellationToken);
        return new ArtifactRef
        {
            Sha256 = put.Sha256, Size = put.Size, AlreadyPresent = put.AlreadyPresent, Model = JobResultMapping.ToApi(info),
        };
    }

    public override async Task<ArtifactRef> UploadImage(IAsyncStreamReader<UploadChunk> requestStream, ServerCallContext context)
    {
        var caller = context.Caller();
        var limits = await quotas.ForAsync(caller, context.CancellationToken);
        // Images stay in memory (at most the image size limit): decoding needs all of them anyway.
        using var buffer = new MemoryStream();
        await ReadUploadAsync(requestStream, "image", caller, limits, (chunk, ct) => buffer.WriteAsync(chunk, ct).AsTask(),
            context.CancellationToken);
        var (put, width, height) = await catalog.PutImageAsync(buffer.ToArray(), limits, context.CancellationToken);
        await RecordUploadAsync(caller, put, context.CancellationToken);
        return new ArtifactRef
        {
            Sha256 = put.Sha256, Size = put.Size, AlreadyPresent = put.AlreadyPresent,
            Image = new ImageInfo { Width = width, Height = height },
        };
    }

    /// <summary>At most this many hashes per FindMissingArtifacts call.</summary>
    public const int MaxFindMissing = 1000;

    public override async Task<FindMissingArtifactsResponse> FindMissingArtifacts(FindMissingArtifactsRequest request,
        ServerCallContext context)
    {
        if (request.Sha256.Count > MaxFindMissing)
            GrpcErrors.InvalidArgument($"{request.Sha256.Count} hashes asked about; ask about at most {MaxFindMissing} per call");
        var caller = context.Caller();
        var response = new FindMissingArtifactsResponse();
        foreach (var sha256 in request.Sha256.Distinct())
        {
            if (!ContentHash.IsWellFormed(sha256))
                GrpcErrors.InvalidArgument($"'{Shorten(sha256)}' is not a SHA-256: give 64 lower-case hex digits");
            // What SubmitJob would refuse as missing: not in the store, or in it but not granted to the caller.
            var usable = await catalog.HoldsAsync(sha256, context.CancellationToken)
                         && (caller.Admin || Users is not { } users
                             || await users.MayUseAsync(sha256, caller.Name, caller.Team, context.CancellationToken));
            if (!usable) response.MissingSha256.Add(sha256);
        }
        return response;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    public override async Task<SubmitJobResponse> SubmitJob(SubmitJobRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var cancellationToken = context.CancellationToken;
        if (request.Dataset.Length > 0) return await SubmitDatasetJobAsync(request, caller, context);
        var jobId = await NewJobIdAsync(request, caller, "", cancellationToken);
        if (jobId is null) return new SubmitJobResponse { JobId = IdempotentJobId(caller, request.RequestId) };

        var limits = await quotas.ForAsync(caller, cancellationToken);
        if (!caller.Admin)
        {
            await CheckMayUseAsync(caller, request.ModelSha256, "model", "UploadModel", cancellationToken);
            await CheckMayUseAsync(caller, request.ImageSha256, "image", "UploadImage", cancellationToken);
            if (request.Gradient is { TwinModelSha256.Length: > 0 } gradient)
                await CheckMayUseAsync(caller, gradient.TwinModelSha256, "model", "UploadModel", cancellationToken);
        }
        var spec = await requests.ToSpecAsync(request, cancellationToken, limits, caller.Team);
        spec.Owner = caller.Name;
        spec.Team = caller.Team;
        // A finished job with the same inputs answers this one at once: it evaluates nothing, so no quota applies.
        var reused = request.NoCache ? null : await reuse.FindAsync(spec, caller, cancellationToken);
        var evaluations = reused is null ? MethodCatalog.For(spec).PerturbationCount : 0;
        using var admission = caller.IsOpen || reused is not null ? null : await quotas.AdmitOneSubmitAtATimeAsync(caller, cancellationToken);
        if (!caller.IsOpen && reused is null) await CheckRunningQuotasAsync(caller, limits, evaluations, cancellationToken);

        var submitted = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (Users is { } users)
            await users.RecordJobAsync(new OwnedJob(jobId, caller.Name, caller.Team, evaluations, submitted, Finished: reused is not null),
                cancellationToken);
        await AskAsync<JobStatusResult>(new StartJob { JobId = jobId, Spec = spec, SubmittedUnixMs = submitted, Reuse = reused }, context);
        return new SubmitJobResponse { JobId = jobId };
    }

    /// <summary>
    /// A dataset job: the dataset's first image is mapped and checked as a job of its own (the template), and the
    /// coordinator's dataset-job entity starts one such job per image. Quotas count the whole dataset's evaluations.
    /// </summary>
    private async Task<SubmitJobResponse> SubmitDatasetJobAsync(SubmitJobRequest request, Caller caller, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (request.ImageSha256.Length > 0) GrpcErrors.InvalidArgument("give either image_sha256 or dataset, not both");
        if (request.MethodCase == SubmitJobRequest.MethodOneofCase.Metrics)
            GrpcErrors.InvalidArgument("metrics score given maps of one image; submit them per image, not for a dataset");
        var jobId = await NewJobIdAsync(request, caller, JobIds.DatasetPrefix, cancellationToken);
        if (jobId is null) return new SubmitJobResponse { JobId = JobIds.DatasetPrefix + IdempotentJobId(caller, request.RequestId) };

        var (dataset, entries) = await datasets.ResolveAsync(request.Dataset, caller.Team, cancellationToken);
        var limits = await quotas.ForAsync(caller, cancellationToken);
        if (!caller.Admin)
        {
            await CheckMayUseAsync(caller, request.ModelSha256, "model", "UploadModel", cancellationToken);
            if (request.Gradient is { TwinModelSha256.Length: > 0 } gradient)
                await CheckMayUseAsync(caller, gradient.TwinModelSha256, "model", "UploadModel", cancellationToken);
        }
        var first = request.Clone();
        first.Dataset = "";
        first.ImageSha256 = entries[0].ImageSha256;
        if (first.Name.Length == 0) first.Name = $"{dataset.Name}:{dataset.Version}";
        var template = await requests.ToSpecAsync(first, cancellationToken, limits, caller.Team);
        template.Owner = caller.Name;
        template.Team = caller.Team;
        var evaluations = (MethodCatalog.For(template).PerturbationCount + 1) * entries.Count;
        using var admission = caller.IsOpen ? null : await quotas.AdmitOneSubmitAtATimeAsync(caller, cancellationToken);
        if (!caller.IsOpen) await CheckRunningQuotasAsync(caller, limits, evaluations, cancellationToken);

        var submitted = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (Users is { } users)
            await users.RecordJobAsync(new OwnedJob(jobId, caller.Name, caller.Team, evaluations, submitted, Finished: false), cancellationToken);
        var start = new StartDatasetJob
        {
            JobId = jobId, Template = template, Dataset = $"{dataset.Name}:{dataset.Version}", SubmittedUnixMs = submitted,
            Images = { entries.Select(e => new DatasetImage { ImageSha256 = e.ImageSha256, FileName = e.FileName, Label = e.Label }) },
        };
        await AskAsync<JobStatusResult>(start, context);
        return new SubmitJobResponse { JobId = jobId };
    }

    /// <summary>
    /// A new job's id (<paramref name="prefix"/> and 32 hex digits), derived from request_id when there is one; null when
    /// that request_id's job exists already (a retried submit: the same job, and no quota counted twice).
    /// </summary>
    private async Task<string?> NewJobIdAsync(SubmitJobRequest request, Caller caller, string prefix, CancellationToken cancellationToken)
    {
        if (request.RequestId.Length == 0) return prefix + Guid.NewGuid().ToString("N");
        if (request.RequestId.Length > 128)
            GrpcErrors.InvalidArgument($"request_id has {request.RequestId.Length} characters; use at most 128 (a UUID is 36)");
        var jobId = prefix + IdempotentJobId(caller, request.RequestId);
        return await RegionOf(jobId).Ask<object>(new GetJobStatus { JobId = jobId }, options.AskTimeout, cancellationToken) is JobStatusResult
            ? null
            : jobId;
    }

    /// <summary>Dataset jobs live in their own shard region; their ids say so.</summary>
    private IActorRef RegionOf(string jobId) => JobIds.IsDatasetJob(jobId) ? datasetJobs.ActorRef : jobs.ActorRef;

    public override async Task<JobProgress> GetJob(GetJobRequest request, ServerCallContext context) =>
        await StatusAsync(await CheckAccessAsync(request.JobId, context), context);

    public override async Task WatchJob(WatchJobRequest request, IServerStreamWriter<JobProgress> responseStream, ServerCallContext context)
    {
        var jobId = await CheckAccessAsync(request.JobId, context);
        // An update whenever the work moved, and at least every HeartbeatInterval while nothing did, so a client sees the
        // rate fall and the time left change on a job whose work items take long. Rate and time left alone, which
        // change on every poll, do not make an update.
        // Each look is an ask the job's entity holds for up to WatchInterval unless the job's state changes: the stream
        // follows the work items at that pace, and says that the job ended as soon as it did.
        JobProgress? last = null;
        var sentAt = TimeSpan.Zero;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var seen = ApiJobState.Unspecified;
        while (true)
        {
            var asked = clock.Elapsed;
            var progress = (await AskAsync<JobStatusResult>(new GetJobStatus
            {
                JobId = jobId, StateSeen = seen, WaitMs = seen == ApiJobState.Unspecified ? 0 : (long)options.WatchInterval.TotalMilliseconds,
            }, context)).Progress;
            if (last is null || Moved(last, progress) || clock.Elapsed - sentAt >= options.WatchHeartbeat)
            {
                await responseStream.WriteAsync(progress, context.CancellationToken);
                sentAt = clock.Elapsed;
                last = progress;
            }
            if (IsFinished(progress.State)) return;
            // An entity that answered early with the same state did not hold the ask (a dataset job does not): wait out the rest.
            var rest = options.WatchInterval - (clock.Elapsed - asked);
            if (progress.State == seen && rest > TimeSpan.Zero) await Task.Delay(rest, context.CancellationToken);
            seen = progress.State;
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
        var jobId = await CheckAccessAsync(request.JobId, context);
        if (JobIds.IsDatasetJob(jobId))
        {
            var index = await AskAsync<DatasetJobResultReply>(new GetJobResult { JobId = jobId }, context);
            CheckDone(jobId, index.Progress);
            var result = JobResultMapping.ToApi(index);
            if (DatasetEmbeddings.Compute(index, request.TsnePerplexity, request.TsneIterations, request.IncludeOverlays) is { } tsne)
            {
                result.Embedding = tsne.Embedding;
                if (tsne.Picture is not null) result.Pictures.Add(tsne.Picture);
            }
            if (request.IncludeOverlays)
            {
                if (request.HasRankingChannel && request.RankingChannel < 0)
                    GrpcErrors.InvalidArgument($"ranking_channel must be a channel index (0 or more), got {request.RankingChannel}");
                if (request.RankingSize is < 0 or > DatasetRanking.MaxSize)
                    GrpcErrors.InvalidArgument($"ranking_size {request.RankingSize} is outside 0 to {DatasetRanking.MaxSize} (0 = {DatasetRanking.DefaultSize})");
                result.Pictures.Add(await ranking.PicturesAsync(index, request.RankingSize, Style(request, index.Progress.Method),
                    async imageJob => await RegionOf(imageJob).Ask<object>(new GetJobResult { JobId = imageJob }, options.AskTimeout,
                        context.CancellationToken) as JobResultReply, context.CancellationToken,
                    request.HasRankingChannel ? request.RankingChannel : null));
            }
            return result;
        }
        var reply = await AskAsync<JobResultReply>(new GetJobResult { JobId = jobId }, context);
        CheckDone(jobId, reply.Progress);
        if (request.IncludeOverlays) Style(request, reply.Progress.Method); // a bad style is INVALID_ARGUMENT before any drawing
        return await results.ToApiAsync(reply, request.IncludeOverlays, request.OverlayStyle, context.CancellationToken);
    }

    private static Imaging.OverlayStyle Style(GetResultRequest request, string method)
    {
        try
        {
            return JobResultMapping.ToStyle(request.OverlayStyle, method);
        }
        catch (ArgumentException e)
        {
            GrpcErrors.InvalidArgument($"overlay_style: {e.Message}");
            throw;
        }
    }

    private static void CheckDone(string jobId, JobProgress progress)
    {
        switch (progress.State)
        {
            case ApiJobState.Failed:
                GrpcErrors.FailedPrecondition($"job {jobId} failed: {progress.Error}");
                break;
            case ApiJobState.Cancelled:
                GrpcErrors.FailedPrecondition($"job {jobId} was cancelled; it has no result");
                break;
            case not ApiJobState.Done:
                GrpcErrors.FailedPrecondition(progress.ImagesTotal > 0
                    ? $"job {jobId} is not done yet ({progress.ImagesDone}/{progress.ImagesTotal} images); watch it with WatchJob"
                    : $"job {jobId} is not done yet ({progress.ItemsDone}/{progress.ItemsTotal} work items); watch it with WatchJob");
                break;
        }
    }

    public override async Task<JobProgress> CancelJob(ApiCancelJob request, ServerCallContext context) =>
        (await AskAsync<JobStatusResult>(new Contracts.Messages.CancelJob { JobId = await CheckAccessAsync(request.JobId, context) }, context)).Progress;

    public override async Task<DeleteJobResponse> DeleteJob(DeleteJobRequest request, ServerCallContext context)
    {
        // Only who may see a job may delete it; anyone else's id is NOT_FOUND, as for get, watch and cancel.
        var jobId = await CheckAccessAsync(request.JobId, context);
        await AskAsync<JobDeletedReply>(new Contracts.Messages.DeleteJob { JobId = jobId }, context);
        if (Users is { } users) await users.ForgetJobAsync(jobId, context.CancellationToken);
        return new DeleteJobResponse();
    }

    /// <summary>One message to the job index, however many jobs the cluster has run.</summary>
    public override async Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        // The index applies the caller's visibility (own and team jobs; all for an admin) as one more filter.
        var caller = context.Caller();
        var viewer = caller.Admin ? new IndexViewer { Everyone = true } : new IndexViewer { User = caller.Name, Team = caller.Team };
        var query = JobListMapping.ToQuery(request, viewer);
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
        (await AskAsync<JobStatusResult>(new GetJobStatus { JobId = jobId }, context)).Progress;

    /// <summary>
    /// The job id, when the caller may see the job (their own, their team's, any for an admin); otherwise NOT_FOUND
    /// with the very message an unknown id gets, so a job id reveals nothing about whether someone else's job exists.
    /// </summary>
    private async Task<string> CheckAccessAsync(string jobId, ServerCallContext context)
    {
        CheckJobId(jobId);
        var caller = context.Caller();
        if (caller.Admin) return jobId;
        var job = Users is { } users ? await users.JobAsync(jobId, context.CancellationToken) : null;
        if (!caller.MaySee(job)) GrpcErrors.NotFound(NoJob(jobId));
        return jobId;
    }

    /// <summary>A model or image may be used only by a user who uploaded those bytes or whose team did.</summary>
    private async Task CheckMayUseAsync(Caller caller, string sha256, string kind, string upload, CancellationToken cancellationToken)
    {
        // A malformed hash keeps its INVALID_ARGUMENT from the mapping; a well-formed one not granted reads as missing.
        if (!ContentHash.IsWellFormed(sha256) || Users is not { } users) return;
        if (!await users.MayUseAsync(sha256, caller.Name, caller.Team, cancellationToken))
            GrpcErrors.NotFound($"no {kind} with sha256 {sha256}; upload it first with {upload}");
    }

    /// <summary>concurrent_jobs and queued_evaluations, over the caller's jobs not yet seen to end.</summary>
    private async Task CheckRunningQuotasAsync(Caller caller, QuotaLimits limits, long evaluations, CancellationToken cancellationToken)
    {
        if (Users is not { } users) return;
        var running = 0L;
        var queued = 0L;
        foreach (var job in await users.UnfinishedJobsAsync(caller.Name, cancellationToken))
        {
            var status = await RegionOf(job.JobId).Ask<object>(new GetJobStatus { JobId = job.JobId }, options.AskTimeout, cancellationToken);
            if (status is JobStatusResult { Progress: var progress } && !IsFinished(progress.State))
            {
                running++;
                queued += Math.Max(0, job.Evaluations - progress.Evaluations);
            }
            else
            {
                await users.MarkFinishedAsync(job.JobId, cancellationToken);
            }
        }
        QuotaPolicy.Check(limits, QuotaLimits.ConcurrentJobs, running + 1, "your queued and running jobs with this one",
            "wait for one to finish or cancel one");
        QuotaPolicy.Check(limits, QuotaLimits.QueuedEvaluations, queued + evaluations,
            "the evaluations your unfinished jobs still need with this one", "wait for your jobs to progress");
    }

    /// <summary>Derived from (owner, request_id), so a retried submit names the job the first one started.</summary>
    private static string IdempotentJobId(Caller caller, string requestId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{caller.Name}\n{requestId}")))[..32];

    private async Task RecordUploadAsync(Caller caller, ArtifactPut put, CancellationToken cancellationToken)
    {
        if (caller.IsOpen || Users is not { } users) return;
        await users.AddUploadedAsync(caller.Name, put.Size, cancellationToken);
        await users.GrantAsync(put.Sha256, caller.Name, caller.Team, cancellationToken);
    }

    private async Task<T> AskAsync<T>(IJobCommand command, ServerCallContext context)
    {
        object reply;
        try
        {
            reply = await RegionOf(command.JobId).Ask<object>(command, options.AskTimeout, context.CancellationToken);
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

    private static void CheckJobId(string jobId)
    {
        if (string.IsNullOrWhiteSpace(jobId)) GrpcErrors.InvalidArgument("job_id is required");
        if (jobId.Length > 64 || !jobId.All(char.IsAsciiLetterOrDigit)) GrpcErrors.NotFound(NoJob(jobId));
    }

    /// <summary>The entity's own wording for an unknown id; an id too long to be one is shown cut, with its length.</summary>
    private static string NoJob(string jobId) =>
        jobId.Length <= 64 ? $"no job with id '{jobId}'" : $"no job with id '{jobId[..64]}…' ({jobId.Length:N0} characters; job ids have 32)";

    private static bool IsFinished(ApiJobState state) =>
        state is ApiJobState.Done or ApiJobState.Failed or ApiJobState.Cancelled;

    /// <summary>
    /// Reads an upload's chunks, refusing as soon as the bytes so far pass the size limit or the caller's daily
    /// upload allowance (not after buffering the rest).
    /// </summary>
    /// <summary>Hands each chunk to <paramref name="append"/>, refusing the upload as soon as it passes a limit or quota.</summary>
    private async Task ReadUploadAsync(IAsyncStreamReader<UploadChunk> chunks, string kind, Caller caller, QuotaLimits limits,
        Func<ReadOnlyMemory<byte>, CancellationToken, Task> append, CancellationToken cancellationToken)
    {
        var limit = catalog.MaxBytes(kind, limits);
        var uploadedToday = !caller.IsOpen && Users is { } users ? await users.UploadedTodayAsync(caller.Name, cancellationToken) : -1;
        long received = 0;
        await foreach (var chunk in chunks.ReadAllAsync(cancellationToken))
        {
            var total = received + chunk.Data.Length;
            if (total > limit)
            {
                if (kind == "model")
                    QuotaPolicy.Check(limits, QuotaLimits.ModelBytes, total, "the model upload's bytes so far", "upload a smaller model");
                GrpcErrors.ResourceExhausted($"the {kind} is larger than the {limit / (1 << 20)} MiB limit");
            }
            if (uploadedToday >= 0)
                QuotaPolicy.Check(limits, QuotaLimits.UploadBytesPerDay, uploadedToday + total, "the bytes you uploaded today with this one",
                    "try again tomorrow (UTC)");
            await append(chunk.Data.Memory, cancellationToken);
            received = total;
        }
    }
}
