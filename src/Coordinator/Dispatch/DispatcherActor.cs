using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Hosting;
using Lantern.Coordinator.Metrics;

namespace Lantern.Coordinator.Dispatch;

/// <summary>
/// Work pulling. Jobs offer work items; workers say how many items they can hold; the dispatcher leases items to
/// workers with free capacity in the order <see cref="WorkQueue"/> decides: weighted fair share between users (so one
/// user's large job does not starve another user), then priority and round-robin between one user's jobs. A lease ends when its
/// result comes back, its worker terminates, or it times out; then the item is offered again. Results are forwarded
/// to the job's entity, which ignores duplicates, so a late result after a re-issue is harmless; the first result of an
/// item stops its other copies. When nothing is queued, items a busy worker has not started move to an idle one
/// (<see cref="BalanceLeases"/>), so the end of a job does not wait on one worker's backlog.
/// </summary>
public sealed class DispatcherActor : ReceiveActor, IWithTimers
{
    private readonly IActorRef _jobRegion;
    private readonly CoordinatorOptions _options;
    private readonly CoordinatorMetrics? _metrics;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WorkQueue _queue;
    private readonly ForwardedResults _forwarded = new();
    private readonly Dictionary<long, Lease> _leases = [];
    private readonly Dictionary<IActorRef, int> _capacity = [];
    private readonly Dictionary<IActorRef, HashSet<string>> _modelsHeld = [];
    private long _nextLeaseId = 1;

    public DispatcherActor(IActorRef jobRegion, CoordinatorOptions options, CoordinatorMetrics? metrics = null)
    {
        _jobRegion = jobRegion;
        _options = options;
        _queue = new WorkQueue(options.FairShare);
        _metrics = metrics;

        Receive<OfferWork>(Handle);
        Receive<WithdrawJob>(w => Withdraw(w.JobId));
        Receive<RequestWork>(Handle);
        Receive<WorkCompleted>(Handle);
        Receive<WorkFailed>(Handle);
        Receive<Terminated>(t => WorkerGone(t.ActorRef));
        Receive<WorkerLeaving>(_ =>
        {
            _log.Info("Worker {Worker} is leaving; taking its leases back", Sender.Path);
            Context.Unwatch(Sender);
            WorkerGone(Sender);
        });
        // A worker on a node that became unreachable or left will not answer: re-issue at once, not at the lease timeout.
        Receive<ClusterEvent.UnreachableMember>(e => NodeGone(e.Member.Address));
        Receive<ClusterEvent.MemberRemoved>(e => NodeGone(e.Member.Address));
        Receive<ExpireLeases>(_ => ExpireLeasesNow());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(IActorRef jobRegion, CoordinatorOptions options, CoordinatorMetrics? metrics = null) =>
        Props.Create(() => new DispatcherActor(jobRegion, options, metrics));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("expire", ExpireLeases.Instance, TimeSpan.FromSeconds(1));
        if (InCluster)
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved));
    }

    protected override void PostStop()
    {
        _metrics?.Dispatch(0, 0); // the singleton moved or stopped: another node reports the queue now
        if (InCluster) Cluster.Get(Context.System).Unsubscribe(Self);
    }

    /// <summary>False in unit tests on a plain actor system.</summary>
    private static bool InCluster => Context.System.Settings.ProviderClass.Contains("Cluster", StringComparison.Ordinal);

    private void NodeGone(Address node)
    {
        foreach (var worker in _capacity.Keys.Where(w => w.Path.Address.Equals(node)).ToList())
        {
            _log.Warning("Worker {Worker} is on {Node}, which is unreachable or removed; re-issuing its leases", worker.Path, node);
            WorkerGone(worker);
        }
    }

    private void Handle(OfferWork offer)
    {
        var added = 0;
        _forwarded.Seen(offer.Work.JobId, offer.ResultsSeen);
        foreach (var item in offer.Items)
        {
            if (IsLeased(offer.Work.JobId, item) || _forwarded.Crossed(offer.Work.JobId, item)) continue;
            if (_queue.Enqueue(offer.Work, item)) added++;
        }
        if (added > 0) Dispatch();
    }

    private void Handle(RequestWork request)
    {
        if (!_capacity.ContainsKey(Sender)) Context.Watch(Sender);
        _capacity[Sender] = request.Capacity;
        _modelsHeld[Sender] = [.. request.Models];
        ForgetLeasesNotHeldBy(Sender, request.HeldLeaseIds);
        Dispatch();
    }

    /// <summary>
    /// Leases the worker does not report (its WorkLeased was lost, or it restarted) are freed; a grace period covers
    /// leases whose WorkLeased is still on its way.
    /// </summary>
    private void ForgetLeasesNotHeldBy(IActorRef worker, ICollection<long> held)
    {
        var settled = DateTime.UtcNow - _options.LeaseReportGrace;
        var lost = _leases.Values
            .Where(l => l.Worker.Equals(worker) && l.IssuedAt < settled && !held.Contains(l.Id))
            .ToList();
        foreach (var lease in lost)
        {
            _leases.Remove(lease.Id);
            if (!lease.Expired) _queue.Requeue(lease.Work, lease.Item);
        }
    }


    private void Handle(WorkCompleted completed)
    {
        if (_leases.Remove(completed.LeaseId, out var lease)) HoldsModel(Sender, lease.Work);
        _jobRegion.Tell(new ScoreWorkItem
        {
            JobId = completed.JobId, Item = completed.Item, Scores = { completed.Scores }, Worker = completed.Worker,
            ResultStamp = _forwarded.Add(completed.JobId, completed.Item, DateTime.UtcNow), BestBatch = completed.BestBatch,
            LargestBatch = completed.LargestBatch,
        });
        StopOtherCopies(completed.JobId, completed.Item);
        Dispatch();
    }

    /// <summary>
    /// A worker that ran an item of a job has loaded its model: known at once, not at its next capacity report (every
    /// few seconds, longer than a short job).
    /// </summary>
    private void HoldsModel(IActorRef worker, WorkSpec work)
    {
        if (_modelsHeld.TryGetValue(worker, out var models)) models.Add(work.Spec.ModelSha256);
    }

    /// <summary>
    /// The item's result is in: any other lease of it (re-issued after a timeout, or moved while its first worker had
    /// started it) would compute what the job already has. Its worker stops it and its room is free at once.
    /// </summary>
    private void StopOtherCopies(string jobId, WorkItem item)
    {
        var copies = _leases.Values.Where(l => l.JobId == jobId && l.Item.Equals(item)).ToList();
        foreach (var copy in copies)
        {
            _leases.Remove(copy.Id);
            copy.Worker.Tell(new LeasesWithdrawn { JobId = jobId, LeaseIds = { copy.Id } });
        }
        if (copies.Count > 0) _metrics?.CopiesStopped(copies.Count);
    }

    private void Handle(WorkFailed failed)
    {
        var lease = _leases.GetValueOrDefault(failed.LeaseId);
        _leases.Remove(failed.LeaseId);
        if (failed.Transient && lease is not null && RetryOnceMore(failed.JobId, failed.Item))
        {
            _log.Warning("Work item of job {JobId} hit a transient failure on {Worker}: {Reason}; retrying it",
                failed.JobId, Sender.Path, failed.Reason);
            if (!lease.Expired) _queue.Requeue(lease.Work, lease.Item);
            Dispatch();
            return;
        }
        _log.Warning("Work item of job {JobId} failed on {Worker}: {Reason}", failed.JobId, Sender.Path, failed.Reason);
        _jobRegion.Tell(new ScoreWorkItem { JobId = failed.JobId, Item = failed.Item, Error = failed.Reason });
        Dispatch();
    }

    /// <summary>
    /// The job was cancelled or is finished: its queued items go, and so do its leases, whose workers are told so that they
    /// stop the running item (its batch terminated) and drop the queued ones: their capacity is free at once.
    /// </summary>
    private void Withdraw(string jobId)
    {
        _queue.Withdraw(jobId);
        _forwarded.Forget(jobId);
        foreach (var key in _transientFailures.Keys.Where(k => k.JobId == jobId).ToList()) _transientFailures.Remove(key);
        var withdrawn = _leases.Values.Where(l => l.JobId == jobId).ToList();
        foreach (var lease in withdrawn) _leases.Remove(lease.Id);
        foreach (var held in withdrawn.GroupBy(l => l.Worker))
            held.Key.Tell(new LeasesWithdrawn { JobId = jobId, LeaseIds = { held.Select(l => l.Id) } });
        PublishMetrics();
        if (withdrawn.Count > 0)
        {
            _log.Info("Job {JobId} withdrawn; told {Workers} workers to stop its {Count} leases", jobId,
                withdrawn.Select(l => l.Worker).Distinct().Count(), withdrawn.Count);
            Dispatch();
        }
    }

    private void WorkerGone(IActorRef worker)
    {
        _capacity.Remove(worker);
        _modelsHeld.Remove(worker);
        var orphaned = _leases.Values.Where(l => l.Worker.Equals(worker)).ToList();
        foreach (var lease in orphaned)
        {
            _leases.Remove(lease.Id);
            if (!lease.Expired) _queue.Requeue(lease.Work, lease.Item); // expired ones were re-queued already
        }
        if (orphaned.Count > 0)
            _log.Warning("Worker {Worker} left with {Count} leases; re-issued them", worker.Path, orphaned.Count);
        Dispatch();
    }

    private void ExpireLeasesNow()
    {
        var now = DateTime.UtcNow;
        _forwarded.ExpireBefore(now - _options.LeaseTimeout);
        var expired = _leases.Values.Where(l => !l.Expired && l.Deadline < now).ToList();
        foreach (var lease in expired)
        {
            _log.Warning("Lease {LeaseId} of job {JobId} on {Worker} timed out; re-issuing", lease.Id, lease.JobId, lease.Worker.Path);
            // The slow worker is presumably still busy with it: the expired lease keeps counting against its
            // capacity (so the item goes to another worker) until its result arrives or the worker leaves.
            _leases[lease.Id] = lease with { Expired = true };
            _queue.Requeue(lease.Work, lease.Item);
        }
        if (expired.Count > 0) Dispatch();
    }

    /// <summary>
    /// Hands queued items to workers while both exist, one item at a time: to a free worker that already holds the
    /// job's model if there is one (no model load), else to the worker with the most free room.
    /// </summary>
    private void Dispatch()
    {
        while (_queue.Count > 0)
        {
            var worker = ChooseWorker(_queue.Peek().Work.Spec.ModelSha256);
            if (worker is null) break;
            var (work, item) = _queue.Dequeue();
            Issue(worker, work, item);
        }
        if (_queue.Count == 0) BalanceLeases();
        PublishMetrics();
    }

    /// <summary>
    /// Nothing is queued, yet a worker may hold up to its capacity less one items behind the one it runs while another
    /// worker has nothing to do: at the end of a job the job then waits for the busy worker's backlog. While the most
    /// loaded worker holds at least two leases more than the least loaded one that has room and holds the lease's model
    /// (so the move costs no model load), its newest lease (the last it would start) moves: the worker is told to drop it
    /// and the other gets it as a new lease. Should the first worker have started it meanwhile, it stops it mid-batch; a
    /// result of it that still comes back is a duplicate, which the job ignores.
    /// </summary>
    private void BalanceLeases()
    {
        for (var moves = 0; moves < _leases.Count; moves++)
        {
            var load = _capacity.Keys.ToDictionary(w => w, _ => 0);
            foreach (var held in _leases.Values)
                if (load.ContainsKey(held.Worker)) load[held.Worker]++;
            if (load.Count < 2) return;
            var (donor, most) = load.MaxBy(w => w.Value);
            var newest = _leases.Values.Where(l => l.Worker.Equals(donor) && !l.Expired).MaxBy(l => l.Id);
            if (newest is null) return;
            var takers = load.Where(w => w.Value + 2 <= most && w.Value < _capacity[w.Key] && Holds(w.Key, newest.Work.Spec.ModelSha256))
                .ToList();
            if (takers.Count == 0) return;
            Move(newest, takers.MinBy(w => w.Value).Key);
        }
    }

    private bool Holds(IActorRef worker, string model) => _modelsHeld.TryGetValue(worker, out var models) && models.Contains(model);

    private void Move(Lease lease, IActorRef to)
    {
        _leases.Remove(lease.Id);
        lease.Worker.Tell(new LeasesWithdrawn { JobId = lease.JobId, LeaseIds = { lease.Id } });
        Issue(to, lease.Work, lease.Item);
        _metrics?.LeaseMoved();
        _log.Debug("Moved the item of job {JobId} at {First} from {From} to idle {To}", lease.JobId, lease.Item.First,
            lease.Worker.Path, to.Path);
    }

    private void Issue(IActorRef worker, WorkSpec work, WorkItem item)
    {
        var now = DateTime.UtcNow;
        var lease = new Lease(_nextLeaseId++, worker, work, item, now, now + _options.LeaseTimeout);
        _leases[lease.Id] = lease;
        worker.Tell(new WorkLeased { LeaseId = lease.Id, Work = work, Item = item });
    }

    /// <summary>Queue depth and leases for /metrics; every change to either ends in <see cref="Dispatch"/> or a withdrawal.</summary>
    private void PublishMetrics() => _metrics?.Dispatch(_queue.Count, _leases.Count);

    private IActorRef? ChooseWorker(string model)
    {
        IActorRef? best = null;
        var (bestHolds, bestFree) = (false, 0);
        foreach (var (worker, capacity) in _capacity)
        {
            var free = capacity - _leases.Values.Count(l => l.Worker.Equals(worker));
            if (free <= 0) continue;
            var holds = Holds(worker, model);
            if (best is null || (holds && !bestHolds) || (holds == bestHolds && free > bestFree))
                (best, bestHolds, bestFree) = (worker, holds, free);
        }
        return best;
    }

    /// <summary>Counts transient failures per item; after <see cref="MaxTransientRetries"/> the job is told.</summary>
    private bool RetryOnceMore(string jobId, WorkItem item)
    {
        var key = (jobId, item);
        var tries = _transientFailures.GetValueOrDefault(key) + 1;
        _transientFailures[key] = tries;
        return tries <= MaxTransientRetries;
    }

    private const int MaxTransientRetries = 5;
    private readonly Dictionary<(string JobId, WorkItem Item), int> _transientFailures = [];

    private bool IsLeased(string jobId, WorkItem item) =>
        _leases.Values.Any(l => !l.Expired && l.JobId == jobId && l.Item.Equals(item));

    private sealed record Lease(long Id, IActorRef Worker, WorkSpec Work, WorkItem Item, DateTime IssuedAt, DateTime Deadline,
        bool Expired = false)
    {
        public string JobId => Work.JobId;
    }

    private sealed class ExpireLeases
    {
        public static readonly ExpireLeases Instance = new();
    }
}
