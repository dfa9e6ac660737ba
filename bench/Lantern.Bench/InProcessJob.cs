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
/// The worker's compute without the cluster: the same WorkEvaluator the worker actor drives, one per worker actor of the
/// node's layout, over an in-memory store, fed the job's baseline then its work items in the coordinator's item size,
/// each evaluator taking every n-th item. Any method: the evaluator rebuilds perturbations through the method
/// catalogue, from the spec and the stored segmentation.
/// </summary>
public static class InProcessJob
{
    public static async Task<Measurement> MeasureAsync(BenchJob job, WorkerOptions worker, RssSampler rss,
        string path = BenchOptions.InProcessPath)
    {
        rss.Restart();
        var evaluators = Enumerable.Range(0, Math.Max(1, worker.Workers))
            .Select(_ => new WorkEvaluator(job.Store, worker, NullLogger<WorkEvaluator>.Instance)).ToList();
        try
        {
            // Loads the sessions and JITs the perturbation path; then lets tiered compilation finish (see WarmUp).
            foreach (var evaluator in evaluators) await RunJobAsync([evaluator], job, $"{job.Method.Name}-warm-up", maxItems: 2);
            await WarmUp.QuietAsync();

            var before = evaluators.Sum(e => e.Evaluations);
            var (runBefore, inputBefore) = (evaluators.Sum(e => e.RunSeconds), evaluators.Sum(e => e.InputSeconds));
            var cpu = ThreadCpu.Now();
            var clock = Stopwatch.StartNew();
            var (size, batch) = await RunJobAsync(evaluators, job, $"{job.Method.Name}-timed", maxItems: int.MaxValue);
            clock.Stop();
            cpu = ThreadCpu.Now() - cpu;
            var time = new WorkerTime(evaluators.Sum(e => e.RunSeconds) - runBefore, evaluators.Sum(e => e.InputSeconds) - inputBefore,
                clock.Elapsed.TotalSeconds * evaluators.Count);
            var layout = evaluators.Count == 1 ? "WorkEvaluator" : $"{evaluators.Count} WorkEvaluators side by side";
            return new Measurement(job.ModelName, path, evaluators.Sum(e => e.Evaluations) - before, clock.Elapsed.TotalSeconds,
                rss.PeakMb, Method: job.Method.Name, JobBatch: batch, Cpu: cpu, WorkerTime: time,
                Detail: $"{layout}, items of {size}, batch {batch} (planned as the job entity plans it), " +
                        (evaluators[0].Pipelined ? "next batch written while one runs" : "no pipelining"));
        }
        finally
        {
            evaluators.ForEach(e => e.Dispose());
        }
    }

    /// <summary>
    /// Runs each small job <see cref="LocalCluster.SmallJobRuns"/> times, on evaluators of the node's layout over that
    /// job's store, before the first in-process row, as <see cref="LocalCluster.ServeSmallJobsAsync"/> does for the
    /// cluster: so that the evaluator's per-job and per-item code (preparing a job, planning, scoring an item) has
    /// recompiled before the first model's rows are timed, as a worker's that has served a while has.
    /// </summary>
    /// <returns>The wall time and the number of methods the JIT compiled meanwhile.</returns>
    public static Task<(TimeSpan Elapsed, long Compiled)> ServeSmallJobsAsync(IReadOnlyList<BenchJob> jobs, WorkerOptions worker) =>
        WarmUp.ServeAsync(async () =>
        {
            foreach (var job in jobs)
            {
                var evaluators = Enumerable.Range(0, Math.Max(1, worker.Workers))
                    .Select(_ => new WorkEvaluator(job.Store, worker, NullLogger<WorkEvaluator>.Instance)).ToList();
                try
                {
                    for (var run = 0; run < LocalCluster.SmallJobRuns; run++)
                        await RunJobAsync(evaluators, job, $"{job.Method.Name}-small-{run}", maxItems: int.MaxValue);
                }
                finally
                {
                    evaluators.ForEach(e => e.Dispose());
                }
            }
        });

    /// <summary>
    /// What the cluster does for one job, minus messaging and persistence: the baseline (on the first evaluator), the plan
    /// the job entity makes from what that worker then reports (its best batch, else its largest:
    /// <see cref="JobState.PlanFromWorker"/>), the top-k targets, then the items, each to the next free evaluator.
    /// Returns the item size and batch.
    /// </summary>
    private static async Task<(int ItemSize, int Batch)> RunJobAsync(IReadOnlyList<WorkEvaluator> evaluators, BenchJob job, string jobId, int maxItems)
    {
        var first = evaluators[0];
        var baseline = await first.EvaluateAsync(new WorkSpec { JobId = jobId, Spec = job.Spec }, new WorkItem { Baseline = true });
        var coordinator = new CoordinatorOptions();
        var accepted = JobState.PlanAccepted(job.Spec, coordinator.WorkItemSize, 0, coordinator.ItemsPerShortJob).ItemSize;
        var (size, batch) = JobState.PlanFromWorker(job.Spec, accepted, first.BestBatchOf(job.Spec.ModelSha256),
            first.LargestBatchOf(job.Spec.ModelSha256));
        var spec = job.Spec.Clone();
        spec.EvalBatch = batch;
        var targets = spec.Targets.Classes.Count > 0 ? [.. spec.Targets.Classes] : Scores.TopK(baseline, spec.Targets.TopK);
        var work = new WorkSpec { JobId = jobId, Spec = spec, Targets = { targets } };

        var items = (int)Math.Min(maxItems, (job.Perturbations + size - 1) / size);
        WorkItem Item(int index) => new() { First = (long)index * size, Count = (int)Math.Min(size, job.Perturbations - (long)index * size) };
        // Items go to whichever evaluator is free, as the dispatcher leases them to whichever worker asks: dealt in turn
        // (evaluator i taking items i, i + n, …), one evaluator slowed by other work on the machine made the whole job
        // wait for it at the end while the other idled, a loss raw throughput (the sum over sessions) does not have.
        var claimed = -1;
        int Claim() => Interlocked.Increment(ref claimed);
        await Task.WhenAll(evaluators.Select(evaluator => Task.Run(async () =>
        {
            for (var index = Claim(); index < items;)
            {
                // A pipelined worker holds its next lease (the hint for writing that item's first batch ahead); one that
                // is not takes its next item when it is free, as a worker asks for work.
                int? following = evaluator.Pipelined ? Claim() : null;
                var next = following < items ? (work, Item(following.Value)) : ((WorkSpec, WorkItem)?)null;
                await evaluator.EvaluateAsync(work, Item(index), next);
                index = following ?? Claim();
            }
        })));
        return (size, batch);
    }
}
