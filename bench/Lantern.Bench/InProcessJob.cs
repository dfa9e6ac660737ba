using System.Diagnostics;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Hosting;
using Lantern.Coordinator.Jobs;
using Lantern.Explainers.Scoring;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lantern.Bench;

/// <summary>
/// The worker's compute without the cluster: the same WorkEvaluator the worker actor drives, over an in-memory store,
/// fed the job's baseline then its work items in the coordinator's item size, one after another. Any method: the
/// evaluator rebuilds perturbations through the method catalogue, from the spec and the stored segmentation.
/// </summary>
public static class InProcessJob
{
    public static async Task<Measurement> MeasureAsync(BenchJob job, WorkerOptions worker, RssSampler rss,
        string path = BenchOptions.InProcessPath)
    {
        rss.Restart();
        using var evaluator = new WorkEvaluator(job.Store, worker, NullLogger<WorkEvaluator>.Instance);
        // Loads the session and JITs the perturbation path; then lets tiered compilation finish (see WarmUp).
        await RunJobAsync(evaluator, job, $"{job.Method.Name}-warm-up", maxItems: 2);
        await WarmUp.QuietAsync();

        var before = evaluator.Evaluations;
        var clock = Stopwatch.StartNew();
        var (size, batch) = await RunJobAsync(evaluator, job, $"{job.Method.Name}-timed", maxItems: int.MaxValue);
        clock.Stop();
        return new Measurement(job.ModelName, path, evaluator.Evaluations - before, clock.Elapsed.TotalSeconds,
            rss.PeakMb, Method: job.Method.Name, JobBatch: batch,
            Detail: $"WorkEvaluator, items of {size}, batch {batch} (planned as the job entity plans it), " +
                    (worker.Pipeline ? "next batch written while one runs" : "no pipelining"));
    }

    /// <summary>
    /// What the cluster does for one job, minus messaging and persistence: the baseline, the plan the job entity makes
    /// from what the worker then reports (its best batch, else its largest: <see cref="JobState.PlanFromWorker"/>), the
    /// top-k targets, then the items. Returns the item size and batch.
    /// </summary>
    private static async Task<(int ItemSize, int Batch)> RunJobAsync(WorkEvaluator evaluator, BenchJob job, string jobId, int maxItems)
    {
        var baseline = await evaluator.EvaluateAsync(new WorkSpec { JobId = jobId, Spec = job.Spec }, new WorkItem { Baseline = true });
        var accepted = JobState.PlanItems(job.Spec, new CoordinatorOptions().WorkItemSize, 0).ItemSize;
        var (size, batch) = JobState.PlanFromWorker(job.Spec, accepted, evaluator.BestBatchOf(job.Spec.ModelSha256),
            evaluator.LargestBatchOf(job.Spec.ModelSha256));
        var spec = job.Spec.Clone();
        spec.EvalBatch = batch;
        var targets = spec.Targets.Classes.Count > 0 ? [.. spec.Targets.Classes] : Scores.TopK(baseline, spec.Targets.TopK);
        var work = new WorkSpec { JobId = jobId, Spec = spec, Targets = { targets } };

        var items = 0;
        WorkItem Item(long first) => new() { First = first, Count = (int)Math.Min(size, job.Perturbations - first) };
        for (long first = 0; first < job.Perturbations && items < maxItems; first += size, items++)
        {
            // As a worker with a queued lease does: the next item is the hint for writing its first batch ahead.
            var next = first + size < job.Perturbations && items + 1 < maxItems ? (work, Item(first + size)) : ((WorkSpec, WorkItem)?)null;
            await evaluator.EvaluateAsync(work, Item(first), next);
        }
        return (size, batch);
    }
}
