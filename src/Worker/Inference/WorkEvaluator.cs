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
/// keeps the targets' scores. Models and images are fetched once by content hash and cached. One item at a time, on the
/// evaluator's own <see cref="InferenceThread"/>: a worker actor that crashed and restarted may ask again while its
/// previous incarnation's item still runs.
/// <para>Pipelined (<see cref="WorkerOptions.PipelinesOn"/>): while a batch runs from one of the session's input slots, a
/// background task writes the following batch into the other, that of the same item or, given the caller's hint, the
/// first of the next item. The inputs are the same bytes either way, so the scores are too.</para>
/// </summary>
public sealed class WorkEvaluator : IDisposable
{
    private readonly IArtifactStore _artifacts;
    private readonly WorkerOptions _options;
    private readonly ILogger<WorkEvaluator> _logger;
    private readonly SessionOptions _sessionOptions;
    private readonly LruCache<string, ModelSession> _sessions;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _loadedAt = new(); // the batch each model was last loaded for
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _bestBatch = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _largestBatch = new();
    private readonly LruCache<string, PreparedJob> _jobs;
    private float[] _scores = [];
    private BatchAhead? _ahead;

    /// <summary>A batch whose inputs a background task writes into a session's free slot while the current batch runs.</summary>
    /// (The work spec is part of the key: a coarse-to-fine job's changes as it selects windows, under the same prepared job.)
    private sealed record BatchAhead(ModelSession Session, PreparedJob Job, WorkSpec Work, long First, int Count, int Slot, Task Written);

    private readonly WorkerMetrics? _metrics;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly CancellationTokenSource _disposing = new();
    private readonly InferenceThread _thread;

    /// <param name="threadName">The name of the evaluator's thread (what <c>top -H</c> shows).</param>
    public WorkEvaluator(IArtifactStore artifacts, WorkerOptions options, ILogger<WorkEvaluator> logger, WorkerMetrics? metrics = null,
        string threadName = InferenceThread.NamePrefix)
    {
        _thread = new InferenceThread(threadName);
        _metrics = metrics;
        _artifacts = artifacts;
        _options = options;
        _logger = logger;
        (_sessionOptions, ProviderDescription) = ExecutionProviders.Create(options.ExecutionProvider, options.SessionThreads);
        Pipelined = options.PipelinesOn(runsOnCuda: ExecutionProviders.IsCuda(ProviderDescription));
        _logger.LogInformation("Worker inference runs on {Provider}; {Pipeline}", ProviderDescription,
            Pipelined ? "next batch written while one runs" : "no pipelining");
        _sessions = new LruCache<string, ModelSession>(options.SessionCacheBytes, session => session.EstimatedBytes);
        _jobs = new LruCache<string, PreparedJob>(options.JobCacheSize);
        _gradients = new GradientJobs(_sessionOptions, options.MaxBatch, options.SessionCacheBytes, options.JobCacheSize, FetchAsync);
    }

    private readonly GradientJobs _gradients;

    public string ProviderDescription { get; }

    /// <summary>Whether the next batch's inputs are written while a batch runs (<see cref="WorkerOptions.PipelinesOn"/>).</summary>
    public bool Pipelined { get; }

    /// <summary>Content hashes of the models whose sessions are loaded; read from other threads, so replaced, not mutated.</summary>
    public IReadOnlyList<string> ModelsHeld => _modelsHeld;
    private volatile string[] _modelsHeld = [];

    /// <summary>Batches whose inputs were written ahead, while the batch before them ran, and then used.</summary>
    public long BatchesWrittenAhead => Interlocked.Read(ref _batchesWrittenAhead);
    private long _batchesWrittenAhead;

    /// <summary>Model evaluations this evaluator has run, the baseline included; for tests and metrics.</summary>
    public long Evaluations => Interlocked.Read(ref _evaluations);
    private long _evaluations;

    /// <summary>Jobs prepared here (image decoded, perturber built): once per job while it stays in the cache.</summary>
    public long JobsPrepared => Interlocked.Read(ref _jobsPrepared);
    private long _jobsPrepared;

    /// <summary>Model runs stopped by the terminate flag (their item was cancelled, or the evaluator disposed).</summary>
    public long RunsTerminated => Interlocked.Read(ref _runsTerminated);
    private long _runsTerminated;

    /// <summary>
    /// Seconds this evaluator's thread spent running perturbation batches through the model (the session runs alone;
    /// baselines and gradient items not included), and before each of them getting its inputs ready: writing them, or
    /// waiting for the write ahead to finish. Their sum over an item's wall time says how much of it the model ran.
    /// </summary>
    public double RunSeconds => Seconds(Interlocked.Read(ref _runTicks));
    public double InputSeconds => Seconds(Interlocked.Read(ref _inputTicks));
    private long _runTicks;
    private long _inputTicks;

    private static double Seconds(long stopwatchTicks) => (double)stopwatchTicks / System.Diagnostics.Stopwatch.Frequency;

    /// <param name="next">The item the caller will most likely ask for next (the worker's queued lease), whose first batch
    /// may be written ahead; only a hint: any item may follow.</param>
    /// <param name="cancellationToken">Cancelling stops the item at once: the running batch is terminated, no other starts,
    /// and the call throws <see cref="OperationCanceledException"/>.</param>
    public Task<float[]> EvaluateAsync(WorkSpec work, WorkItem item, (WorkSpec Work, WorkItem Item)? next = null,
        CancellationToken cancellationToken = default) =>
        _thread.RunAsync(() => EvaluateOneAtATimeAsync(work, item, next, cancellationToken));

    private async Task<float[]> EvaluateOneAtATimeAsync(WorkSpec work, WorkItem item, (WorkSpec Work, WorkItem Item)? next,
        CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            // One RunOptions per request: cancelling sets its terminate flag, which ONNX Runtime checks between the graph's
            // nodes (the running batch ends early) and at the start of every later run of this item (none starts).
            using var runOptions = new RunOptions();
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
            using var terminate = stopping.Token.Register(() => runOptions.Terminate = true);
            try
            {
                return await EvaluateAsync(work, item, next, runOptions, stopping.Token);
            }
            catch (OnnxRuntimeException) when (stopping.IsCancellationRequested)
            {
                Interlocked.Increment(ref _runsTerminated);
                _metrics?.AddRunTerminated();
                throw new OperationCanceledException("the item was cancelled; its running batch was terminated", stopping.Token);
            }
        }
        finally
        {
            _metrics?.AddBusy(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            _oneAtATime.Release();
        }
    }

    private async Task<float[]> EvaluateAsync(WorkSpec work, WorkItem item, (WorkSpec Work, WorkItem Item)? next,
        RunOptions runOptions, CancellationToken cancellationToken)
    {
        var job = await PreparedJobAsync(work, cancellationToken);
        if (item.Baseline || job.Perturber is null) SettleAhead();
        if (!item.Baseline && job.Perturber is null)
        {
            var (block, evaluations) = await _gradients.EvaluateAsync(work, job, item, runOptions, cancellationToken);
            Count(evaluations);
            return block;
        }
        var session = await SessionAsync(work.Spec.ModelSha256, work.Spec.EvalBatch, cancellationToken);
        return item.Baseline ? EvaluateBaseline(session, job, runOptions)
            : EvaluatePerturbations(session, job, work, item, NextJobAhead(work, next), runOptions);
    }

    /// <summary>
    /// A loaded model's best batch on this worker's hardware and provider: configured, else measured by the sweep when
    /// it was loaded (0 when neither, or not loaded).
    /// </summary>
    public int BestBatchOf(string modelSha256) => _bestBatch.GetValueOrDefault(modelSha256);

    /// <summary>
    /// The largest batch this worker runs a model at unless a job asks for more: --max-batch, or 1 for a model that only
    /// runs one image at a time; 0 when the model was never loaded. (Read on the worker actor's thread, so from a
    /// concurrent dictionary, not the session cache.)
    /// </summary>
    public int LargestBatchOf(string modelSha256) => _largestBatch.GetValueOrDefault(modelSha256);

    private void RecordBestBatch(string modelSha256, ModelSession session)
    {
        if (_bestBatch.ContainsKey(modelSha256)) return; // measured once per model, not again when reloaded larger
        if (_options.Batch > 0)
        {
            var configured = Math.Min(_options.Batch, session.MaxBatch);
            _bestBatch[modelSha256] = configured;
            _metrics?.ModelBatch(modelSha256, configured, "configured");
            return;
        }
        if (!_options.SweepBatch || session.MaxBatch <= 1) return;
        var (best, timings) = BatchSweep.Measure(session, _options.SweepPerBatch);
        _bestBatch[modelSha256] = best;
        _metrics?.ModelBatch(modelSha256, best, "sweep");
        _logger.LogInformation("Model {Model} on {Provider}: best batch {Batch} (evaluations/s by batch: {Timings})",
            modelSha256[..12], ProviderDescription, best,
            string.Join(", ", timings.Select(t => FormattableString.Invariant($"{t.Batch}: {t.PerSecond:F1}"))));
    }

    /// <summary>The batch size a loaded model runs at (0 when it is not loaded): 1 for a fixed batch that could not be rewritten.</summary>
    public int MaxBatchOf(string modelSha256) => _sessions.TryGet(modelSha256, out var session) ? session.MaxBatch : 0;

    private void Count(long evaluations)
    {
        Interlocked.Add(ref _evaluations, evaluations);
        _metrics?.Add(evaluations);
    }

    private float[] EvaluateBaseline(ModelSession session, PreparedJob job, RunOptions runOptions)
    {
        job.BaseTensor.CopyTo(session.InputBuffer(1));
        var scores = new float[session.ClassCount];
        session.Run(1, scores, runOptions: runOptions);
        Count(1);
        return scores; // raw, every class: the job entity resolves top-k targets from it
    }

    private float[] EvaluatePerturbations(ModelSession session, PreparedJob job, WorkSpec work, WorkItem item,
        (PreparedJob Job, WorkSpec Work, WorkItem Item)? next, RunOptions runOptions)
    {
        int[] targets = [.. work.Targets];
        var block = new float[item.Count * targets.Length];
        var classes = session.ClassCount;
        var step = BatchOf(session, work.Spec);
        if (_scores.Length < step * classes) _scores = new float[step * classes];

        for (var done = 0; done < item.Count;)
        {
            var batch = Math.Min(step, item.Count - done);
            var asked = System.Diagnostics.Stopwatch.GetTimestamp();
            var slot = TakeWritten(session, job, work, item.First + done, batch);
            var readied = System.Diagnostics.Stopwatch.GetTimestamp() - asked;
            Interlocked.Add(ref _inputTicks, readied);
            _metrics?.AddInput(Seconds(readied));
            if (done + batch < item.Count)
                WriteAhead(session, job, work, item.First + done + batch, Math.Min(step, item.Count - done - batch), 1 - slot);
            else if (next is var (nextJob, nextWork, nextItem))
                WriteAhead(session, nextJob, nextWork, nextItem.First, Math.Min(BatchOf(session, nextWork.Spec), nextItem.Count), 1 - slot);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            session.Run(batch, _scores, slot, runOptions);
            var ran = System.Diagnostics.Stopwatch.GetTimestamp() - started;
            Interlocked.Add(ref _runTicks, ran);
            _metrics?.ObserveBatch(Seconds(ran));
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

    /// <summary>
    /// The slot holding batch (<paramref name="first"/>, <paramref name="count"/>) of the job's inputs: the one written
    /// ahead if it is this batch, else one written now.
    /// </summary>
    private int TakeWritten(ModelSession session, PreparedJob job, WorkSpec work, long first, int count)
    {
        if (_ahead is { } ahead && ahead.Session == session && ahead.Job == job && ahead.First == first && ahead.Count == count
            && ahead.Work.Equals(work))
        {
            _ahead = null;
            ahead.Written.GetAwaiter().GetResult(); // a failed write fails this item, as writing it here would
            Interlocked.Increment(ref _batchesWrittenAhead);
            _metrics?.AddBatchWrittenAhead();
            return ahead.Slot;
        }
        SettleAhead();
        Write(session, job, work, first, count, slot: 0);
        return 0;
    }

    private void WriteAhead(ModelSession session, PreparedJob job, WorkSpec work, long first, int count, int slot)
    {
        if (!Pipelined) return;
        SettleAhead();
        _ahead = new BatchAhead(session, job, work, first, count, slot, Task.Run(() => Write(session, job, work, first, count, slot)));
    }

    /// <summary>Waits out a write ahead that will not be used (another item came), so that no slot is written twice at once.</summary>
    private void SettleAhead()
    {
        if (_ahead is not { } ahead) return;
        _ahead = null;
        try
        {
            ahead.Written.GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // The item it wrote for was not asked; were it asked later, writing it then fails the same way, and that counts.
        }
    }

    private static void Write(ModelSession session, PreparedJob job, WorkSpec work, long first, int count, int slot)
    {
        for (var b = 0; b < count; b++)
            session.WritePerturbed(job.Perturber!, work.MethodPerturbation(first + b), slot, b);
    }

    /// <summary>The hinted next item, if it is a perturbation item of a job already prepared here on the same model.</summary>
    private (PreparedJob Job, WorkSpec Work, WorkItem Item)? NextJobAhead(WorkSpec work, (WorkSpec Work, WorkItem Item)? next)
    {
        if (!Pipelined || next is not var (nextWork, nextItem) || nextItem.Baseline || nextItem.Count <= 0
            || nextWork.Spec.ModelSha256 != work.Spec.ModelSha256
            || !_jobs.TryGet(JobKey(nextWork), out var nextJob) || nextJob.Perturber is null)
            return null;
        return (nextJob, nextWork, nextItem);
    }

    /// <summary>
    /// The batch a job's perturbations run in: the job's own (fixed when it was planned, the same on every worker), or
    /// the session's largest for a job planned before batches were sized. A model that only runs one image at a time
    /// runs at 1 on every worker alike.
    /// </summary>
    private static int BatchOf(ModelSession session, JobSpec spec) =>
        spec.EvalBatch > 0 ? Math.Min(spec.EvalBatch, session.MaxBatch) : session.MaxBatch;

    private async Task<ModelSession> SessionAsync(string modelSha256, int batch, CancellationToken cancellationToken)
    {
        // A job planned with a batch larger than the session was loaded for reloads it larger, unless the model itself
        // stopped it lower (a fixed batch of 1): every worker must run the job in its planned batch.
        var wanted = Math.Max(_options.MaxBatch, batch);
        if (_sessions.TryGet(modelSha256, out var cached)
            && (cached.MaxBatch >= wanted || _loadedAt.GetValueOrDefault(modelSha256) >= wanted))
            return cached;
        if (cached is not null)
        {
            SettleAhead(); // its written-ahead inputs belong to the session being replaced
            _sessions.Remove(modelSha256);
        }
        var bytes = await FetchAsync(modelSha256, "model", cancellationToken);
        var info = OnnxModelInspector.Inspect(bytes);
        var session = ModelSession.Load(bytes, info, _sessionOptions, wanted, out var stayedAtOne);
        _loadedAt[modelSha256] = wanted;
        _largestBatch[modelSha256] = Math.Min(_options.MaxBatch, session.MaxBatch);
        RecordBestBatch(modelSha256, session);
        if (stayedAtOne is not null) _logger.LogInformation("Model with a fixed batch of 1 stays at batch 1: {Reason}", stayedAtOne);
        _logger.LogInformation("Loaded model {Model} ({Input} {Type}, batch up to {Batch}) on {Provider}",
            modelSha256[..12], info.InputName, info.InputType, session.MaxBatch, ProviderDescription);
        _sessions.Add(modelSha256, session);
        _modelsHeld = [.. _sessions.Keys];
        return session;
    }

    private async Task<PreparedJob> PreparedJobAsync(WorkSpec work, CancellationToken cancellationToken)
    {
        // Keyed by job alone: the baseline item arrives before the targets are resolved, and its items reuse what it
        // prepared (for LIME, the features' contributions: a few milliseconds that every job's first item waited for).
        var key = JobKey(work);
        if (_jobs.TryGet(key, out var cached)) return cached;
        var image = ImageDecoder.Decode(await FetchAsync(work.Spec.ImageSha256, "image", cancellationToken));
        var segmentation = MethodCatalog.NeedsSegmentation(work.Spec)
            ? Segmentation.FromBytes(await FetchAsync(work.Spec.SegmentationSha256, "segmentation", cancellationToken))
            : null;
        var metricMaps = new List<float[]>();
        foreach (var sha in MethodCatalog.MetricMapShas(work.Spec))
            metricMaps.Add(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(await FetchAsync(sha, "map", cancellationToken)).ToArray());
        var job = PreparedJob.Create(work.Spec, image, segmentation, metricMaps);
        _jobs.Add(key, job);
        Interlocked.Increment(ref _jobsPrepared);
        return job;
    }

    private static string JobKey(WorkSpec work) => work.JobId;

    private async Task<byte[]> FetchAsync(string sha256, string kind, CancellationToken cancellationToken) =>
        await _artifacts.GetAsync(sha256, cancellationToken)
        ?? throw new InvalidOperationException($"{kind} {sha256} is not in the artifact store");

    public void Dispose()
    {
        // A running item is stopped (its batch terminated), and waited for: its session must not be freed under it.
        _disposing.Cancel();
        _thread.Dispose(); // the thread ends once the running item is done
        if (!_oneAtATime.Wait(TimeSpan.FromMinutes(1))) return; // still running: leak the sessions rather than crash
        SettleAhead();
        _sessions.Clear();
        _jobs.Clear();
        _gradients.Clear();
        _sessionOptions.Dispose();
        _oneAtATime.Dispose();
        _disposing.Dispose();
    }
}
