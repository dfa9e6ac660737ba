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
public sealed class JobIndexActor : ReceivePersistentActor
{
    public const string Name = "job-index";

    private readonly JobIndexState _state = new();
    private readonly IActorRef _jobRegion;
    private readonly JobDirectory _directory;
    private readonly CoordinatorOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private int _eventsSinceSnapshot;

    public JobIndexActor(IActorRef jobRegion, JobDirectory directory, CoordinatorOptions options)
    {
        _jobRegion = jobRegion;
        _directory = directory;
        _options = options;

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

    public static Props PropsFor(IActorRef jobRegion, JobDirectory directory, CoordinatorOptions options) =>
        Props.Create(() => new JobIndexActor(jobRegion, directory, options));

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
