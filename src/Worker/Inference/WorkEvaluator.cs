using Lantern.Contracts.Messages;
using Lantern.Explainers.Scoring;
using Lantern.Imaging;
using Lantern.Methods;
using Lantern.Models;
using Lantern.Storage;
using Microsoft.Extensions.Logging;
using Lantern.Worker.Hosting;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Worker.Inference;

using Segmentation = Lantern.Explainers.Segmentation.Segmentation;

/// <summary>
/// Computes the score block of a work item: rebuilds each perturbed input from its index, runs the model in batches,
/// keeps the targets' scores. Models and images are fetched once by content hash and cached. One item at a time:
/// a worker actor that crashed and restarted may ask again while its previous incarnation's item still runs.
/// </summary>
public sealed class WorkEvaluator : IDisposable
{
    private readonly IArtifactStore _artifacts;
    private readonly WorkerOptions _options;
    private readonly ILogger<WorkEvaluator> _logger;
    private readonly SessionOptions _sessionOptions;
    private readonly LruCache<string, ModelSession> _sessions;
    private readonly LruCache<string, PreparedJob> _jobs;
    private float[] _scores = [];

    private readonly WorkerMetrics? _metrics;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public WorkEvaluator(IArtifactStore artifacts, WorkerOptions options, ILogger<WorkEvaluator> logger, WorkerMetrics? metrics = null)
    {
        _metrics = metrics;
        _artifacts = artifacts;
        _options = options;
        _logger = logger;
        (_sessionOptions, ProviderDescription) = ExecutionProviders.Create(options.ExecutionProvider, options.IntraOpThreads);
        _logger.LogInformation("Worker inference runs on {Provider}", ProviderDescription);
        _sessions = new LruCache<string, ModelSession>(options.SessionCacheBytes, session => session.EstimatedBytes);
        _jobs = new LruCache<string, PreparedJob>(options.JobCacheSize);
        _gradients = new GradientJobs(_sessionOptions, options.MaxBatch, options.SessionCacheBytes, options.JobCacheSize, FetchAsync);
    }

    private readonly GradientJobs _gradients;

    public string ProviderDescription { get; }

    /// <summary>Content hashes of the models whose sessions are loaded; read from other threads, so replaced, not mutated.</summary>
    public IReadOnlyList<string> ModelsHeld => _modelsHeld;
    private volatile string[] _modelsHeld = [];

    /// <summary>Model evaluations this evaluator has run, the baseline included; for tests and metrics.</summary>
    public long Evaluations => Interlocked.Read(ref _evaluations);
    private long _evaluations;

    public async Task<float[]> EvaluateAsync(WorkSpec work, WorkItem item, CancellationToken cancellationToken = default)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            var job = await PreparedJobAsync(work, cancellationToken);
            if (!item.Baseline && job.Perturber is null)
            {
                var (block, evaluations) = await _gradients.EvaluateAsync(work, job, item, cancellationToken);
                Count(evaluations);
                return block;
            }
            var session = await SessionAsync(work.Spec.ModelSha256, cancellationToken);
            return item.Baseline ? EvaluateBaseline(session, job) : EvaluatePerturbations(session, job, work, item);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>The batch size a loaded model runs at (0 when it is not loaded): 1 for a fixed batch that could not be rewritten.</summary>
    public int MaxBatchOf(string modelSha256) => _sessions.TryGet(modelSha256, out var session) ? session.MaxBatch : 0;

    private void Count(long evaluations)
    {
        Interlocked.Add(ref _evaluations, evaluations);
        _metrics?.Add(evaluations);
    }

    private float[] EvaluateBaseline(ModelSession session, PreparedJob job)
    {
        job.BaseTensor.CopyTo(session.InputBuffer(1));
        var scores = new float[session.ClassCount];
        session.Run(1, scores);
        Count(1);
        return scores; // raw, every class: the job entity resolves top-k targets from it
    }

    private float[] EvaluatePerturbations(ModelSession session, PreparedJob job, WorkSpec work, WorkItem item)
    {
        var targets = job.Targets;
        var block = new float[item.Count * targets.Length];
        var classes = session.ClassCount;
        if (_scores.Length < session.MaxBatch * classes) _scores = new float[session.MaxBatch * classes];

        for (var done = 0; done < item.Count;)
        {
            var batch = Math.Min(session.MaxBatch, item.Count - done);
            var input = session.InputBuffer(batch);
            for (var b = 0; b < batch; b++)
                job.Perturber!.Write(work.MethodPerturbation(item.First + done + b), input.Slice(b * session.TensorLength, session.TensorLength));
            session.Run(batch, _scores);
            for (var b = 0; b < batch; b++)
            {
                var row = _scores.AsSpan(b * classes, classes);
                var into = block.AsSpan((done + b) * targets.Length, targets.Length);
                if (job.AppliesSoftmax)
                {
                    Scores.SoftmaxOf(row, targets, into); // no per-image allocation
                    continue;
                }
                for (var t = 0; t < targets.Length; t++) into[t] = row[targets[t]];
            }
            done += batch;
            Count(batch);
        }
        return block;
    }

    private async Task<ModelSession> SessionAsync(string modelSha256, CancellationToken cancellationToken)
    {
        if (_sessions.TryGet(modelSha256, out var cached)) return cached;
        var bytes = await FetchAsync(modelSha256, "model", cancellationToken);
        var info = OnnxModelInspector.Inspect(bytes);
        var session = ModelSession.Load(bytes, info, _sessionOptions, _options.MaxBatch, out var stayedAtOne);
        if (stayedAtOne is not null) _logger.LogInformation("Model with a fixed batch of 1 stays at batch 1: {Reason}", stayedAtOne);
        _logger.LogInformation("Loaded model {Model} ({Input} {Type}, batch up to {Batch}) on {Provider}",
            modelSha256[..12], info.InputName, info.InputType, session.MaxBatch, ProviderDescription);
        _sessions.Add(modelSha256, session);
        _modelsHeld = [.. _sessions.Keys];
        return session;
    }

    private async Task<PreparedJob> PreparedJobAsync(WorkSpec work, CancellationToken cancellationToken)
    {
        // Keyed by job and targets: the baseline item arrives before the targets are resolved.
        var key = $"{work.JobId}/{string.Join(',', work.Targets)}";
        if (_jobs.TryGet(key, out var cached)) return cached;
        var image = ImageDecoder.Decode(await FetchAsync(work.Spec.ImageSha256, "image", cancellationToken));
        var segmentation = MethodCatalog.NeedsSegmentation(work.Spec)
            ? Segmentation.FromBytes(await FetchAsync(work.Spec.SegmentationSha256, "segmentation", cancellationToken))
            : null;
        var job = PreparedJob.Create(work, image, segmentation);
        _jobs.Add(key, job);
        return job;
    }

    private async Task<byte[]> FetchAsync(string sha256, string kind, CancellationToken cancellationToken) =>
        await _artifacts.GetAsync(sha256, cancellationToken)
        ?? throw new InvalidOperationException($"{kind} {sha256} is not in the artifact store");

    public void Dispose()
    {
        _sessions.Clear();
        _jobs.Clear();
        _gradients.Clear();
        _sessionOptions.Dispose();
        _oneAtATime.Dispose();
    }
}
