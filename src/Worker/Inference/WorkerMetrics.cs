using Prometheus;

namespace Lantern.Worker.Inference;

/// <summary>
/// The worker role's Prometheus metrics, over every worker of a node, in the node's own registry (several nodes share a
/// process in the tests, so none writes to prometheus-net's static default registry).
/// </summary>
public sealed class WorkerMetrics
{
    private readonly Counter _evaluations;
    private readonly Counter _batchesWrittenAhead;
    private readonly Counter _runsTerminated;
    private readonly Counter _busySeconds;
    private readonly Counter _inputSeconds;
    private readonly Histogram _batchSeconds;
    private readonly Gauge _provider;
    private readonly Gauge _modelBatch;

    public WorkerMetrics(CollectorRegistry? registry = null)
    {
        var metrics = Metrics.WithCustomRegistry(registry ?? Metrics.NewCustomRegistry());
        _evaluations = metrics.CreateCounter("lantern_worker_evaluations_total",
            "Model evaluations run by this node's workers, baselines included");
        _batchesWrittenAhead = metrics.CreateCounter("lantern_worker_batches_written_ahead_total",
            "Batches whose inputs were written while the batch before them ran (pipelining), and then used");
        _runsTerminated = metrics.CreateCounter("lantern_worker_runs_terminated_total",
            "Model runs stopped by ONNX Runtime's terminate flag because their job was cancelled or withdrawn");
        _busySeconds = metrics.CreateCounter("lantern_worker_busy_seconds_total",
            "Wall time this node's workers spent evaluating work items (baselines and gradient items included), summed over workers");
        _inputSeconds = metrics.CreateCounter("lantern_worker_input_seconds_total",
            "Wall time workers spent before each inference batch getting its inputs ready (writing the perturbed inputs, or waiting for the write ahead), summed over workers");
        _batchSeconds = metrics.CreateHistogram("lantern_worker_batch_seconds",
            "Wall time of one inference batch (session run) on a worker",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) }); // 1 ms .. 33 s
        _provider = metrics.CreateGauge("lantern_worker_execution_provider",
            "1 per worker actor, labelled with the execution provider its sessions run on (cuda or cpu)",
            new GaugeConfiguration { LabelNames = ["worker", "provider", "description"] });
        _modelBatch = metrics.CreateGauge("lantern_worker_model_batch",
            "The best batch of a loaded model on this node's hardware and provider: measured by the sweep or configured",
            new GaugeConfiguration { LabelNames = ["model", "source"] });
    }

    /// <summary>A loaded model's best batch (<paramref name="source"/>: sweep or configured).</summary>
    public void ModelBatch(string modelSha256, int batch, string source) =>
        _modelBatch.WithLabels(modelSha256[..Math.Min(12, modelSha256.Length)], source).Set(batch);

    /// <summary>Model evaluations run on this node, baselines included.</summary>
    public long Evaluations => (long)_evaluations.Value;

    public void Add(long evaluations) => _evaluations.Inc(evaluations);

    /// <summary>Batches whose inputs were written while the batch before them ran, and then used (see WorkerOptions.Pipeline).</summary>
    public long BatchesWrittenAhead => (long)_batchesWrittenAhead.Value;

    public void AddBatchWrittenAhead() => _batchesWrittenAhead.Inc();

    /// <summary>Model runs stopped by ONNX Runtime's terminate flag because their job was cancelled or withdrawn.</summary>
    public long RunsTerminated => (long)_runsTerminated.Value;

    public void AddRunTerminated() => _runsTerminated.Inc();

    /// <summary>
    /// Seconds the workers spent inside work items (writing inputs, running the model, reading scores): a job's compute.
    /// Its wall time less this is its fixed cost (submit, planning, messages, journal, assembly), as the bench reports it.
    /// </summary>
    public double BusySeconds => _busySeconds.Value;

    public void AddBusy(double seconds) => _busySeconds.Inc(seconds);

    /// <summary>One session run of a batch took this long (seconds, from <see cref="System.Diagnostics.Stopwatch"/>).</summary>
    public void ObserveBatch(double seconds) => _batchSeconds.Observe(seconds);

    /// <summary>Batches observed so far (the histogram's count).</summary>
    public long Batches => _batchSeconds.Count;

    /// <summary>Seconds the observed batches ran (the histogram's sum): of <see cref="BusySeconds"/>, the model's part.</summary>
    public double RunSeconds => _batchSeconds.Sum;

    /// <summary>Seconds the workers spent before each batch getting its inputs ready (writing them, or waiting for the write ahead).</summary>
    public double InputSeconds => _inputSeconds.Value;

    public void AddInput(double seconds) => _inputSeconds.Inc(seconds);

    /// <summary>Worker <paramref name="worker"/> loaded its execution provider (what <c>/readyz</c> waits for on a worker).</summary>
    public void ProviderLoaded(int worker, string description)
    {
        var provider = ExecutionProviders.IsCuda(description) ? "cuda" : "cpu";
        _provider.WithLabels(worker.ToString(System.Globalization.CultureInfo.InvariantCulture), provider, description).Set(1);
        Interlocked.Increment(ref _providersLoaded);
    }

    /// <summary>Worker actors whose execution provider is loaded.</summary>
    public int ProvidersLoaded => Volatile.Read(ref _providersLoaded);
    private int _providersLoaded;
}
