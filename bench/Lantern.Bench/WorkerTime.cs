namespace Lantern.Bench;

/// <summary>
/// Where the workers' wall time went during a row's timed jobs: seconds inside the model's session runs, and seconds
/// before each batch getting its inputs ready (writing the perturbed inputs, or waiting for the write ahead), out of the
/// row's wall time times the number of workers. In-process from each <c>WorkEvaluator</c>'s RunSeconds and InputSeconds;
/// on cluster and gRPC rows from the node's <c>lantern_worker_batch_seconds</c> sum and
/// <c>lantern_worker_input_seconds_total</c>. What neither covers is the workers idle (the baseline and the job's
/// preparation before the items, the last item running alone, messages between items, the job's fixed costs) and reading
/// the scores; runs slowed by other threads on the cores show as a ratio to raw below the run share.
/// </summary>
public readonly record struct WorkerTime(double RunSeconds, double InputSeconds, double WorkerSeconds)
{
    /// <summary>The share of the workers' wall time inside session runs.</summary>
    public double? RunShare => WorkerSeconds > 0 ? RunSeconds / WorkerSeconds : null;

    /// <summary>The share of the workers' wall time getting inputs ready.</summary>
    public double? InputShare => WorkerSeconds > 0 ? InputSeconds / WorkerSeconds : null;

    public static WorkerTime operator +(WorkerTime a, WorkerTime b) =>
        new(a.RunSeconds + b.RunSeconds, a.InputSeconds + b.InputSeconds, a.WorkerSeconds + b.WorkerSeconds);
}
