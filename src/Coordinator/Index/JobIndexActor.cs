using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Hosting;
using Lantern.Coordinator.Jobs;

namespace Lantern.Coordinator.Index;

/// <summary>
/// The job index: a persistent cluster singleton on the coordinator role that answers listings from memory, so a
/// listing costs one message however many jobs the cluster has ever run (petabridge's ProductIndexActor pattern).
/// Job entities send their row at every phase change and, while running, every <see cref="CoordinatorOptions.IndexRefreshInterval"/>,
/// until acknowledged. Only changes that matter after a restart are persisted (new jobs, phases, errors): progress
/// lives in memory, and running jobs re-send it when they wake. Snapshots bound recovery. A thin shell around
/// <see cref="JobIndexState"/>.
/// </summary>
public sealed class JobIndexActor : ReceivePersistentActor, IWithTimers
{
    public const string Name = "job-index";

    private readonly JobIndexState _state = new();
    private readonly IActorRef _jobRegion;
    private readonly IActorRef _datasetJobRegion;
    private readonly JobDirectory _directory;
    private readonly CoordinatorOptions _options;
    private readonly Retention.Retention? _retention;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private int _eventsSinceSnapshot;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="retention">Null keeps every job and upload.</param>
    public JobIndexActor(IActorRef jobRegion, IActorRef datasetJobRegion, JobDirectory directory, CoordinatorOptions options,
        Retention.Retention? retention)
    {
        _jobRegion = jobRegion;
        _datasetJobRegion = datasetJobRegion;
        _directory = directory;
        _options = options;
        _retention = retention;

        Recover<SnapshotOffer>(offer => _state.Apply((JobIndexSnapshot)offer.Snapshot));
        Recover<IJobIndexMessage>(e =>
        {
            _state.Apply(e);
            _eventsSinceSnapshot++;
        });
        Recover<RecoveryCompleted>(_ =>
        {
            _log.Info("Job index recovered with {Count} jobs", _state.Count);
            if (!_state.Backfilled) Backfill();
            if (_retention is not null)
                // The first sweep soon after start: a node restarted after a long stop may have much to let go.
                Timers.StartPeriodicTimer("retention", SweepRetention.Instance, TimeSpan.FromSeconds(1), _options.RetentionSweepInterval);
        });

        Command<IndexJob>(Handle);
        Command<RemoveIndexedJob>(remove =>
        {
            if (_state.Find(remove.JobId) is null) return;
            PersistChange(new JobIndexRemoved { JobId = remove.JobId });
        });
        Command<QueryJobIndex>(query =>
        {
            try
            {
                Sender.Tell(_state.Query(query));
            }
            catch (ArgumentException e)
            {
                Sender.Tell(new Status.Failure(e));
            }
        });
        Command<BackfillDone>(done =>
        {
            _log.Info("Job index: {Count} jobs from before the index were woken to index themselves", done.Jobs);
            PersistChange(new JobIndexBackfilled());
        });
        Command<SweepRetention>(_ => Sweep());
        Command<RetentionSwept>(swept =>
        {
            if (swept.Jobs + swept.Artifacts > 0)
                _log.Info("Retention: deleted {Jobs} finished jobs and {Artifacts} unused uploads", swept.Jobs, swept.Artifacts);
        });
        Command<RetentionFailed>(f => _log.Warning("Retention sweep failed: {Reason}; the next one tries again", f.Reason));
        Command<Status.Failure>(f => _log.Warning("Job index backfill failed: {Reason}; it runs again on the next start", f.Cause.Message));
        Command<SaveSnapshotSuccess>(s =>
        {
            // The snapshot supersedes everything before it: recovery reads it and the events after.
            DeleteMessages(s.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(f => _log.Warning("Job index snapshot failed: {Reason}", f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Job index: deleting old events failed: {Reason}", f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("Job index: deleting old snapshots failed: {Reason}", f.Cause.Message));
    }

    public override string PersistenceId => "job-index";

    public static Props PropsFor(IActorRef jobRegion, IActorRef datasetJobRegion, JobDirectory directory, CoordinatorOptions options,
        Retention.Retention? retention) =>
        Props.Create(() => new JobIndexActor(jobRegion, datasetJobRegion, directory, options, retention));

    /// <summary>
    /// Expired finished jobs are deleted through their entities (which then remove their rows here), then uploads that no
    /// other job or registered model uses. A sweep that fails is logged and the next one tries again.
    /// </summary>
    private void Sweep()
    {
        var retention = _retention!;
        var cutoff = retention.CutoffUnixMs(DateTimeOffset.UtcNow);
        var (expired, inUse) = Retention.Retention.Plan(_state.Rows, cutoff);
        foreach (var jobId in expired)
            (JobIds.IsDatasetJob(jobId) ? _datasetJobRegion : _jobRegion).Tell(new DeleteJob { JobId = jobId });
        retention.DeleteUnusedAsync(expired, inUse, cutoff, CancellationToken.None)
            .ContinueWith(t => t.IsCompletedSuccessfully
                ? new RetentionSwept(expired.Count, t.Result)
                : (object)new RetentionFailed(t.Exception?.GetBaseException().Message ?? "cancelled"))
            .PipeTo(Self);
    }

    private sealed class SweepRetention
    {
        public static readonly SweepRetention Instance = new();
    }

    private sealed record RetentionSwept(int Jobs, int Artifacts);

    private sealed record RetentionFailed(string Reason);

    private void Handle(IndexJob index)
    {
        var row = index.Row;
        var ack = new JobIndexAck { JobId = row.JobId, Version = row.Version };
        if (!_state.IsDurableChange(row))
        {
            _state.Upsert(row); // progress: memory only (an older version is ignored inside)
            Sender.Tell(ack);
            return;
        }
        var sender = Sender;
        PersistChange(new JobIndexUpdated { Row = row }, () => sender.Tell(ack));
    }

    private void PersistChange(IJobIndexMessage change, Action? then = null) =>
        Persist(change, e =>
        {
            _state.Apply(e);
            then?.Invoke();
            if (_options.IndexSnapshotEvery > 0 && ++_eventsSinceSnapshot >= _options.IndexSnapshotEvery)
            {
                _eventsSinceSnapshot = 0;
                SaveSnapshot(_state.ToSnapshot());
            }
        });

    /// <summary>
    /// Jobs accepted before the index existed: wake each once (a few at a time), and each sends its row as it recovers.
    /// </summary>
    private void Backfill()
    {
        var region = _jobRegion;
        var directory = _directory;
        var indexed = _state.JobIds.ToHashSet(StringComparer.Ordinal);
        Task.Run(async () =>
        {
            var ids = (await directory.JobIdsAsync(CancellationToken.None)).Where(id => !indexed.Contains(id)).ToList();
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (id, _) =>
            {
                try
                {
                    await region.Ask<object>(new GetJobStatus { JobId = id }, TimeSpan.FromSeconds(30));
                }
                catch (AskTimeoutException)
                {
                    // it indexes itself whenever it next wakes
                }
            });
            return new BackfillDone(ids.Count);
        }).PipeTo(Self);
    }

    private sealed record BackfillDone(int Jobs);
}
