using Akka;
using Akka.Actor;
using Akka.Event;
using Lantern.Contracts.Messages;
using Lantern.Storage;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;

namespace Lantern.Worker.Actors;

/// <summary>
/// Pulls work: tells the dispatcher how many items it can hold, runs leased items one at a time off the mailbox and
/// sends each score block back. The capacity report is repeated on a timer, so a dispatcher that restarted or moved
/// learns about this worker again. Leases the dispatcher withdraws (their job was cancelled, another worker returned
/// the item, or the item moved to an idle worker) are dropped, and the running one is stopped mid-batch, so the worker
/// takes other work at once.
/// </summary>
public sealed class WorkerActor : ReceiveActor, IWithTimers
{
    private readonly IActorRef _dispatcher;
    private readonly WorkEvaluator _evaluator;
    private readonly WorkerOptions _options;
    private readonly string _name;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<WorkLeased> _queue = new();
    private WorkLeased? _running;
    private CancellationTokenSource? _stopRunning;
    private bool _leaving;

    public WorkerActor(IActorRef dispatcher, WorkEvaluator evaluator, WorkerOptions options, string name)
    {
        _dispatcher = dispatcher;
        _evaluator = evaluator;
        _options = options;
        _name = name;

        Receive<WorkLeased>(lease =>
        {
            if (_leaving)
            {
                _dispatcher.Tell(new WorkerLeaving { HeldLeaseIds = { lease.LeaseId } });
                return;
            }
            _queue.Enqueue(lease);
            RunNext();
        });
        Receive<Evaluated>(done =>
        {
            EndRunning();
            _dispatcher.Tell(new WorkCompleted
            {
                LeaseId = done.Lease.LeaseId, JobId = done.Lease.Work.JobId, Item = done.Lease.Item,
                Scores = { done.Scores }, Worker = _name,
                BestBatch = done.Lease.Item.Baseline ? _evaluator.BestBatchOf(done.Lease.Work.Spec.ModelSha256) : 0,
                LargestBatch = done.Lease.Item.Baseline ? _evaluator.LargestBatchOf(done.Lease.Work.Spec.ModelSha256) : 0,
            });
            RunNext();
        });
        Receive<EvaluationStopped>(stopped =>
        {
            // Withdrawn by the dispatcher (or handed back on leaving), which no longer expects a result.
            EndRunning();
            _log.Info("Stopped the work item of job {JobId} at {First}: its lease was withdrawn", stopped.Lease.Work.JobId,
                stopped.Lease.Item.First);
            RunNext();
        });
        Receive<LeasesWithdrawn>(Handle);
        Receive<EvaluationFailed>(failed =>
        {
            EndRunning();
            _log.Warning("Work item of job {JobId} failed: {Reason}", failed.Lease.Work.JobId, failed.Reason);
            _dispatcher.Tell(new WorkFailed
            {
                LeaseId = failed.Lease.LeaseId, JobId = failed.Lease.Work.JobId, Item = failed.Lease.Item, Reason = failed.Reason,
                Transient = failed.Transient,
            });
            RunNext();
        });
        Receive<ReportCapacity>(_ => ReportToDispatcher());
        Receive<Leave>(_ =>
        {
            // Coordinated shutdown: hand every lease back so another worker takes it now, not at its timeout.
            _leaving = true;
            Timers.Cancel("capacity");
            _dispatcher.Tell(new WorkerLeaving { HeldLeaseIds = { HeldLeaseIds() } });
            _queue.Clear();
            _stopRunning?.Cancel(); // handed back: another worker runs it
            Sender.Tell(Done.Instance);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(IActorRef dispatcher, WorkEvaluator evaluator, WorkerOptions options, string name) =>
        Props.Create(() => new WorkerActor(dispatcher, evaluator, options, name));

    protected override void PreStart()
    {
        ReportToDispatcher();
        Timers.StartPeriodicTimer("capacity", ReportCapacity.Instance, TimeSpan.FromSeconds(3));
    }

    protected override void PostStop() => _stopRunning?.Cancel();

    private void Handle(LeasesWithdrawn withdrawn)
    {
        var ids = withdrawn.LeaseIds.ToHashSet();
        var kept = _queue.Where(l => !ids.Contains(l.LeaseId)).ToList();
        var dropped = _queue.Count - kept.Count;
        _queue.Clear();
        foreach (var lease in kept) _queue.Enqueue(lease);
        var stopping = _running is { } running && ids.Contains(running.LeaseId);
        if (stopping) _stopRunning!.Cancel(); // the evaluation ends with EvaluationStopped
        // The job was cancelled or finished, its item's result came from another worker, or the item moved to an idle one.
        _log.Debug("{Count} lease(s) of job {JobId} withdrawn: {Action} the running item, dropped {Dropped} queued", ids.Count,
            withdrawn.JobId, stopping ? "stopping" : "not", dropped);
        if (dropped > 0) ReportToDispatcher();
    }

    private void EndRunning()
    {
        _running = null;
        _stopRunning?.Dispose();
        _stopRunning = null;
    }

    private void ReportToDispatcher() => _dispatcher.Tell(new RequestWork
    {
        Capacity = _options.Capacity, HeldLeaseIds = { HeldLeaseIds() }, Models = { _evaluator.ModelsHeld },
    });

    private IEnumerable<long> HeldLeaseIds() =>
        _queue.Select(l => l.LeaseId).Concat(_running is { } running ? [running.LeaseId] : []);

    private void RunNext()
    {
        if (_leaving)
        {
            ReportToDispatcher(); // the result just sent; nothing more will be taken
            return;
        }
        if (_running is not null || _queue.Count == 0) return;
        var lease = _queue.Dequeue();
        _running = lease;
        var stop = _stopRunning = new CancellationTokenSource();
        var evaluator = _evaluator;
        // The queued lease is the evaluator's hint for writing its first batch ahead while this one runs.
        (WorkSpec, WorkItem)? next = _queue.TryPeek(out var queued) ? (queued.Work, queued.Item) : null;
        // Inference runs on the evaluator's own thread, so the mailbox keeps taking leases meanwhile.
        var token = stop.Token;
        evaluator.EvaluateAsync(lease.Work, lease.Item, next, token).PipeTo(Self,
            success: scores => new Evaluated(lease, scores),
            failure: e =>
            {
                var cause = (e as AggregateException)?.InnerException ?? e;
                return cause is OperationCanceledException && token.IsCancellationRequested
                    ? new EvaluationStopped(lease)
                    : new EvaluationFailed(lease, cause.Message, cause is ArtifactUnavailableException);
            });
    }

    private sealed record Evaluated(WorkLeased Lease, float[] Scores);

    private sealed record EvaluationFailed(WorkLeased Lease, string Reason, bool Transient);

    private sealed record EvaluationStopped(WorkLeased Lease);

    private sealed class ReportCapacity
    {
        public static readonly ReportCapacity Instance = new();
    }

    /// <summary>Asked by coordinated shutdown before the node leaves the cluster; answered with <see cref="Done"/>.</summary>
    public sealed class Leave
    {
        public static readonly Leave Instance = new();
    }
}
