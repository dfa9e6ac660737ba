namespace Lantern.Worker.Inference;

/// <summary>Counts over every worker of a node.</summary>
public sealed class WorkerMetrics
{
    private long _evaluations;

    /// <summary>Model evaluations run on this node, baselines included.</summary>
    public long Evaluations => Interlocked.Read(ref _evaluations);

    public void Add(long evaluations) => Interlocked.Add(ref _evaluations, evaluations);

    private long _batchesWrittenAhead;

    /// <summary>Batches whose inputs were written while the batch before them ran, and then used (see WorkerOptions.Pipeline).</summary>
    public long BatchesWrittenAhead => Interlocked.Read(ref _batchesWrittenAhead);

    public void AddBatchWrittenAhead() => Interlocked.Increment(ref _batchesWrittenAhead);

    private long _runsTerminated;

    /// <summary>Model runs stopped by ONNX Runtime's terminate flag because their job was cancelled or withdrawn.</summary>
    public long RunsTerminated => Interlocked.Read(ref _runsTerminated);

    public void AddRunTerminated() => Interlocked.Increment(ref _runsTerminated);
}
