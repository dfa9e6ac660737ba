using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using Lantern.Cli.Client;
using Lantern.Contracts.Cluster;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Hosting;
using Lantern.Coordinator.Metrics;
using Lantern.Host;
using Lantern.Methods;
using Lantern.Storage;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Bench;

/// <summary>
/// A one-node cluster in this process (gateway, coordinator and worker roles, SQLite journal and artifacts in a fresh
/// temporary file), measured two ways:
/// <list type="bullet">
/// <item><c>cluster</c>: through its actors, as the gateway drives them but without gRPC: the artifacts are put in the
/// node's store, <see cref="StartJob"/> goes to the job's shard region, its status is asked every few milliseconds until it
/// is done. Job entity, dispatcher, worker actor, journal and map assembly are all in; upload, watch and fetch are not.</item>
/// <item><c>grpc</c>: end to end through the public API with the CLI's own client: put model and image (uploaded if the gateway lacks them), submit, watch the
/// progress stream, fetch the result with its overlays.</item>
/// </list>
/// Each path is warmed up on the job first (<see cref="WarmUp"/>): a serving cluster has loaded the model and compiled
/// its code.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan StatusPoll = TimeSpan.FromMilliseconds(5);
    private readonly WebApplication _node;
    private readonly ExplainClient _client;
    private readonly string _database;
    private readonly IActorRef _jobs;
    private readonly IArtifactStore _artifacts;
    private readonly WorkerMetrics _worker;
    private readonly CoordinatorMetrics _coordinator;
    private readonly int _workers;

    private LocalCluster(WebApplication node, ExplainClient client, string database, int workers)
    {
        _workers = Math.Max(1, workers);
        _node = node;
        _client = client;
        _database = database;
        _jobs = node.Services.GetRequiredService<IRequiredActor<JobRegionKey>>().ActorRef;
        _artifacts = node.Services.GetRequiredService<IArtifactStore>();
        _worker = node.Services.GetRequiredService<WorkerMetrics>();
        _coordinator = node.Services.GetRequiredService<CoordinatorMetrics>();
    }

    /// <param name="coordinator">The coordinator's options (the defaults unless given), e.g. to compare two plans.</param>
    public static async Task<LocalCluster> StartAsync(WorkerOptions worker, CoordinatorOptions? coordinator = null)
    {
        var database = Path.Combine(Path.GetTempPath(), $"lantern-bench-{Guid.NewGuid():N}.db");
        var node = LanternNode.Build(new NodeOptions
        {
            DatabasePath = database, GrpcPort = 0, LogLevel = LogLevel.Warning, Worker = worker,
            Coordinator = coordinator ?? new CoordinatorOptions(),
        });
        await node.StartAsync();
        return new LocalCluster(node, ExplainClient.Connect(LanternNode.GrpcAddress(node)), database, worker.Workers);
    }

    /// <summary>How many times <see cref="ServeSmallJobsAsync"/> runs each small job: twice the runtime's call count for recompiling.</summary>
    public const int SmallJobRuns = 64;

    /// <summary>
    /// Serves each small job <see cref="SmallJobRuns"/> times (through gRPC, or through the actors when gRPC is not
    /// measured) before the first row, so that the node is timed as one that has served a team for a while.
    /// .NET recompiles a method after its 30th call, and again, optimised, some 30 calls later (tiered compilation with
    /// dynamic PGO): code that runs once or twice per job (submit, planning, the journal, assembly, overlays)
    /// recompiles during the node's 15th to 60th jobs. On 2 cores, each burst took a core from ONNX Runtime for 0.1 to 2.5 s of a
    /// measured job, and a row's own warm-up (<see cref="WarmUp"/>) can stop in a quiet run between two bursts.
    /// </summary>
    /// <returns>The wall time and the number of methods the JIT compiled meanwhile.</returns>
    public Task<(TimeSpan Elapsed, long Compiled)> ServeSmallJobsAsync(IReadOnlyList<BenchJob> jobs, bool viaGrpc) =>
        WarmUp.ServeAsync(async () =>
        {
            foreach (var job in jobs)
            {
                if (!viaGrpc) await PutArtifactsAsync(job);
                for (var run = 0; run < SmallJobRuns; run++)
                {
                    if (viaGrpc) await RunThroughGrpcAsync(job);
                    else await RunThroughActorsAsync(job);
                }
            }
        });

    /// <summary>Through the actors: from StartJob to the job entity reporting Done (maps assembled and stored).</summary>
    public async Task<Measurement> MeasureActorsAsync(BenchJob job, RssSampler rss)
    {
        await PutArtifactsAsync(job);
        var warmUps = await WarmUp.RunAsync(() => RunThroughActorsAsync(job));
        rss.Restart();
        var busy = _worker.BusySeconds;
        var moved = _coordinator.Moved;
        var inItems = WorkerTimeSoFar();
        var cpu = ThreadCpu.Now();
        var clock = Stopwatch.StartNew();
        var (jobId, progress) = await RunThroughActorsAsync(job);
        clock.Stop();
        cpu = ThreadCpu.Now() - cpu;
        var time = WorkerTimeSince(inItems, clock.Elapsed);
        moved = _coordinator.Moved - moved;
        var planned = ((JobResultReply)await Ask(new GetJobResult { JobId = jobId }, TimeSpan.FromMinutes(1))).Spec;
        return new Measurement(job.ModelName, "cluster", progress.Evaluations, clock.Elapsed.TotalSeconds, rss.PeakMb,
            Method: job.Method.Name, ComputeSeconds: (_worker.BusySeconds - busy) / _workers, JobBatch: planned.EvalBatch, Cpu: cpu, WorkerTime: time,
            Detail: $"job region + dispatcher + worker actor + SQLite journal + assembly, no gRPC; {MovedNote(moved)}{warmUps} warm-up run(s)");
    }

    /// <summary>
    /// End to end through gRPC: wall time from the start of the upload to the fetched result with its overlays. The
    /// evaluation count is the job's own (perturbations + 1 baseline).
    /// </summary>
    public async Task<Measurement> MeasureGrpcAsync(BenchJob job, RssSampler rss)
    {
        var warmUps = await WarmUp.RunAsync(() => RunThroughGrpcAsync(job));
        rss.Restart();
        var busy = _worker.BusySeconds;
        var moved = _coordinator.Moved;
        var inItems = WorkerTimeSoFar();
        var cpu = ThreadCpu.Now();
        var clock = Stopwatch.StartNew();
        var (result, phases) = await RunThroughGrpcAsync(job);
        clock.Stop();
        cpu = ThreadCpu.Now() - cpu;
        var time = WorkerTimeSince(inItems, clock.Elapsed);
        moved = _coordinator.Moved - moved;
        var compute = (_worker.BusySeconds - busy) / _workers; // the average worker's time inside work items
        // The same request again without no_cache: answered from the finished job's result (nothing computed twice).
        var again = Stopwatch.StartNew();
        var (reused, _) = await RunThroughGrpcAsync(job, noCache: false);
        again.Stop();
        if (!reused.SummaryJson.Contains("\"reused\"", StringComparison.Ordinal))
            throw new InvalidOperationException($"the repeated {job.Method.Name} job was computed again, not reused");
        var progress = result.Progress;
        var jobSeconds = (progress.FinishedUnixMs - progress.SubmittedUnixMs) / 1000.0;
        // A feature-based method's submit also looks up the image's segmentation (computed by the gateway once per image
        // and parameters, during the warm-up).
        var segmentation = MethodCatalog.NeedsSegmentation(job.Spec) ? " + gateway segmentation lookup" : "";
        // A gradient job's submit builds the gradient model (cached by the gateway after the warm-up's first build).
        var gradient = job.Method.IsGradient ? $" + gradient-model lookup{(job.TwinName is { } t ? $" + twin upload ({t})" : "")}" : "";
        using var summary = System.Text.Json.JsonDocument.Parse(result.SummaryJson);
        var batch = summary.RootElement.GetProperty("parameters").GetProperty("eval_batch").GetInt32();
        var timings = summary.RootElement.GetProperty("timings");
        var toBaseline = (timings.GetProperty("started_utc").GetDateTimeOffset() - timings.GetProperty("submitted_utc").GetDateTimeOffset()).TotalMilliseconds;
        return new Measurement(job.ModelName, "grpc", progress.Evaluations, clock.Elapsed.TotalSeconds, rss.PeakMb,
            Method: job.Method.Name, ComputeSeconds: compute, ReusedSeconds: again.Elapsed.TotalSeconds, JobBatch: batch, Cpu: cpu,
            WorkerTime: time,
            Detail: $"put (hashed here, uploaded if missing) + submit{gradient} + watch + result with overlays{segmentation}; job entity's own submit-to-finish " +
                    $"{jobSeconds:F2} s (its baseline scored after {toBaseline:F0} ms); put {phases.Uploads.TotalMilliseconds:F0} ms, submit call {phases.Submit.TotalMilliseconds:F0} ms, " +
                    $"watch and result {phases.Finish.TotalMilliseconds:F0} ms (of which the job's own {jobSeconds * 1000:F0}); {MovedNote(moved)}{warmUps} warm-up run(s); " +
                    $"the same request without no_cache, answered from the finished job's result: {again.Elapsed.TotalMilliseconds:F0} ms");
    }

    /// <summary>The node's workers' seconds in session runs and getting inputs ready so far (see <see cref="WorkerTime"/>).</summary>
    private (double Run, double Input) WorkerTimeSoFar() => (_worker.RunSeconds, _worker.InputSeconds);

    private WorkerTime WorkerTimeSince((double Run, double Input) before, TimeSpan wall) =>
        new(_worker.RunSeconds - before.Run, _worker.InputSeconds - before.Input, wall.TotalSeconds * _workers);

    /// <summary>Queued items the dispatcher moved to an idle worker at the end of the measured job.</summary>
    private static string MovedNote(double moved) => $"{moved:F0} item(s) moved to an idle worker; ";

    /// <summary>
    /// What the gateway's uploads, segmentation and gradient-model build leave in the store; the spec names them by
    /// content hash.
    /// </summary>
    private async Task PutArtifactsAsync(BenchJob job)
    {
        await _artifacts.PutAsync(job.ModelBytes, "model");
        await _artifacts.PutAsync(job.ImageBytes, "image");
        if (job.TwinBytes is { } twin) await _artifacts.PutAsync(twin, "model");
        if (job.Spec.GradientModelSha256.Length > 0)
            await _artifacts.PutAsync(await job.Store.GetAsync(job.Spec.GradientModelSha256)
                                      ?? throw new InvalidOperationException("the bench job's gradient model is missing"), "gradient-model");
        if (MethodCatalog.NeedsSegmentation(job.Spec))
            await _artifacts.PutAsync(await job.Store.GetAsync(job.Spec.SegmentationSha256)
                                      ?? throw new InvalidOperationException("the bench job's segmentation is missing"), "segmentation");
    }

    private async Task<(string JobId, Contracts.Api.JobProgress Progress)> RunThroughActorsAsync(BenchJob job)
    {
        var jobId = Guid.NewGuid().ToString("N");
        var timeout = TimeSpan.FromMinutes(10);
        await Ask(new StartJob { JobId = jobId, Spec = job.Spec, SubmittedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, timeout);
        while (true)
        {
            var progress = ((JobStatusResult)await Ask(new GetJobStatus { JobId = jobId }, timeout)).Progress;
            if (progress.State == ApiJobState.Done) return (jobId, progress);
            if (progress.State is ApiJobState.Failed or ApiJobState.Cancelled)
                throw new InvalidOperationException($"bench job {jobId} ended {progress.State}: {progress.Error}");
            await Task.Delay(StatusPoll);
        }
    }

    private async Task<object> Ask(IJobCommand command, TimeSpan timeout)
    {
        var reply = await _jobs.Ask<object>(command, timeout);
        return reply is JobRejected rejected ? throw new InvalidOperationException(rejected.Reason) : reply;
    }

    /// <summary>Where a gRPC row's wall time went: putting the files (hashing, asking what is missing, uploading it), the submit call, then watching to the end and fetching the result.</summary>
    private sealed record GrpcPhases(TimeSpan Uploads, TimeSpan Submit, TimeSpan Finish);

    /// <summary>As `lantern explain` runs it: model, image and any float32 twin put on the gateway, submitted, watched, fetched.</summary>
    private async Task<(Contracts.Api.JobResult Result, GrpcPhases Phases)> RunThroughGrpcAsync(BenchJob job, bool noCache = true)
    {
        var submit = job.Submit.Clone();
        submit.NoCache = noCache; // measured: computed every time, not answered from the warm-up's result
        var clock = Stopwatch.StartNew();
        // As the CLI puts them: hashed here, and uploaded only if the gateway lacks them (after the warm-up it has them).
        List<Upload> files = [new(job.ModelBytes, job.ModelName, IsModel: true), new(job.ImageBytes, job.ImageName, IsModel: false)];
        if (job.TwinBytes is { } twin) files.Add(new Upload(twin, job.TwinName!, IsModel: true));
        var (hashes, _) = await _client.PutAsync(files);
        (submit.ModelSha256, submit.ImageSha256) = (hashes[0], hashes[1]);
        if (job.TwinBytes is not null) submit.Gradient.TwinModelSha256 = hashes[2];
        var uploads = clock.Elapsed;
        var jobId = (await _client.Api.SubmitJobAsync(submit)).JobId;
        var submitted = clock.Elapsed;
        var result = await _client.FinishAsync(jobId, _ => { });
        return (result, new GrpcPhases(uploads, submitted - uploads, clock.Elapsed - submitted));
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _node.StopAsync();
        await _node.DisposeAsync();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_database + suffix);
    }
}
