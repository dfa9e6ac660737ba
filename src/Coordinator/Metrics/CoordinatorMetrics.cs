using System.Collections.Concurrent;
using Lantern.Coordinator.Jobs;
using Prometheus;

namespace Lantern.Coordinator.Metrics;

/// <summary>
/// The coordinator role's Prometheus metrics, in the node's own registry. The work-item gauges are set by the
/// dispatcher singleton, so only the node that hosts it reports non-zero values: <c>sum()</c> over nodes is the
/// cluster's queue depth (what autoscaling reads). Job gauges count the job entities living on this node.
/// </summary>
public sealed class CoordinatorMetrics
{
    private readonly Gauge _pending;
    private readonly Gauge _leased;
    private readonly Gauge _jobs;
    private readonly Counter _finished;
    private readonly Counter _moved;
    private readonly Counter _stoppedCopies;
    private readonly Histogram _durations;
    private readonly ConcurrentDictionary<string, JobPhase> _live = new();

    public CoordinatorMetrics(CollectorRegistry? registry = null)
    {
        var metrics = Prometheus.Metrics.WithCustomRegistry(registry ?? Prometheus.Metrics.NewCustomRegistry());
        _pending = metrics.CreateGauge("lantern_work_items_pending",
            "Work items queued at the dispatcher, waiting for a worker (the queue depth workers scale on)");
        _leased = metrics.CreateGauge("lantern_work_items_leased", "Work items leased to workers and not yet returned");
        _jobs = metrics.CreateGauge("lantern_jobs", "Jobs not yet finished whose entity lives on this node, by state",
            new GaugeConfiguration { LabelNames = ["state"] });
        _finished = metrics.CreateCounter("lantern_jobs_finished_total", "Jobs that finished on this node, by final state",
            new CounterConfiguration { LabelNames = ["state"] });
        _moved = metrics.CreateCounter("lantern_work_items_moved_total",
            "Queued work items the dispatcher took from a busy worker and gave to one with nothing to do (the end of a job)");
        _stoppedCopies = metrics.CreateCounter("lantern_work_items_stopped_copies_total",
            "Leases stopped because another lease of the same item returned its result first (a re-issue or a move)");
        _durations = metrics.CreateHistogram("lantern_job_duration_seconds",
            "Submission to finish of jobs that finished on this node, by final state",
            new HistogramConfiguration { LabelNames = ["state"], Buckets = Histogram.ExponentialBuckets(0.5, 2, 16) });
        foreach (var phase in (JobPhase[])[JobPhase.Queued, JobPhase.Running]) _jobs.WithLabels(Label(phase)).Set(0);
    }

    public double Pending => _pending.Value;
    public double Leased => _leased.Value;
    public double Moved => _moved.Value;
    public double StoppedCopies => _stoppedCopies.Value;

    /// <summary>The dispatcher moved a queued lease to an idle worker.</summary>
    public void LeaseMoved() => _moved.Inc();

    /// <summary>The dispatcher stopped the other copies of an item whose result came back.</summary>
    public void CopiesStopped(int count) => _stoppedCopies.Inc(count);

    /// <summary>The dispatcher's queue and lease counts after a change; zeros when the singleton stops here.</summary>
    public void Dispatch(int pending, int leased)
    {
        _pending.Set(pending);
        _leased.Set(leased);
    }

    /// <summary>
    /// A job entity on this node reached <paramref name="phase"/>. A finish is counted only when this node saw the job
    /// unfinished, so an entity recovering a finished job (a restart, a shard move) does not count it twice.
    /// </summary>
    public void JobPhaseChanged(string jobId, JobPhase phase, double secondsSinceSubmit)
    {
        var finished = phase is JobPhase.Done or JobPhase.Failed or JobPhase.Cancelled;
        if (finished)
        {
            if (!_live.TryRemove(jobId, out var before)) return;
            _jobs.WithLabels(Label(before)).Dec();
            _finished.WithLabels(Label(phase)).Inc();
            _durations.WithLabels(Label(phase)).Observe(Math.Max(0, secondsSinceSubmit));
            return;
        }
        if (phase is not (JobPhase.Queued or JobPhase.Running)) return;
        if (_live.TryGetValue(jobId, out var previous))
        {
            if (previous == phase) return;
            _jobs.WithLabels(Label(previous)).Dec();
        }
        _live[jobId] = phase;
        _jobs.WithLabels(Label(phase)).Inc();
    }

    /// <summary>The job's entity stopped on this node (passivated, moved, node shutting down).</summary>
    public void JobStopped(string jobId)
    {
        if (_live.TryRemove(jobId, out var before)) _jobs.WithLabels(Label(before)).Dec();
    }

    private static string Label(JobPhase phase) => phase.ToString().ToLowerInvariant();
}
