using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Hosting;
using Lantern.Coordinator.Metrics;
using Lantern.Storage;

namespace Lantern.Coordinator.Jobs;

/// <summary>
/// One explanation job: a persistent, sharded entity. It plans the job's work items, offers a bounded window of them to
/// the dispatcher, records every score block as an event (so a finished item is never recomputed after a restart) and,
/// when all are in, assembles the maps into the artifact store. A thin shell around <see cref="JobState"/>.
/// </summary>
public sealed class JobEntity : ReceivePersistentActor, IWithTimers
{
    private const string ReofferTimer = "reoffer";
    private const string IndexTimer = "index";
    private const string LingerTimer = "linger";
    private JobState _state;
    private readonly IActorRef _dispatcher;
    private readonly IActorRef _index;
    private readonly IArtifactStore _artifacts;
    private readonly CoordinatorOptions _options;
    private readonly CoordinatorMetrics? _metrics;
    private readonly IMemoStore? _memo;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<long> _offered = [];
    private readonly ProgressRate _rate = new();
    // The highest dispatcher stamp of a result this incarnation has handled; sent with every offer (see ForwardedResults).
    private long _resultsSeen;
    private bool _assembling;
    private readonly StatusWaiters _waiters = new();
    private DateTime? _waitTimerDue;

    // The job index has this job's row as of event _indexAcked; _indexSent* say what was last sent, and when.
    private long _indexAcked = -1;
    private long _indexSent = -1;
    private JobPhase _indexSentPhase = JobPhase.New;
    private DateTime _indexSentAt;

    /// <param name="memo">Where a completed job is recorded under its spec's <see cref="JobSpecExtensions.ReuseKey"/>, so a
    /// later job with the same inputs is answered from its result; null: completed jobs are not offered for reuse.</param>
    public JobEntity(string jobId, IActorRef dispatcher, IActorRef index, IArtifactStore artifacts, CoordinatorOptions options,
        CoordinatorMetrics? metrics = null, IMemoStore? memo = null)
    {
        _metrics = metrics;
        _memo = memo;
        _state = new JobState(jobId);
        _dispatcher = dispatcher;
        _index = index;
        _artifacts = artifacts;
        _options = options;
        PersistenceId = PersistenceIdFor(jobId);

        Recover<SnapshotOffer>(offer => _state = JobState.FromSnapshot(jobId, (JobSnapshot)offer.Snapshot));
        Recover<IJobEvent>(e => _state.Apply(e));
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<StartJob>(Handle);
        Command<ScoreWorkItem>(Handle);
        Command<CancelJob>(Handle);
        Command<DeleteJob>(Handle);
        Command<GetJobStatus>(Handle);
        Command<AnswerDueWaiters>(_ =>
        {
            var now = DateTime.UtcNow;
            _waitTimerDue = null;
            AnswerWaiters(_waiters.TakeDue(now));
            ScheduleWaiters(now);
        });
        Command<GetJobResult>(_ => ReplyResult());
        Command<AssemblyFinished>(Handle);
        Command<WriteApplied>(applied => AfterWrite(applied.PhaseChanged));
        Command<LingerOver>(_ => WriteWaitingScoresIfDue());
        Command<Status.Failure>(f => PersistAndApply([new JobFailed
        {
            Reason = $"assembling the maps failed: {f.Cause.Message}", FinishedUnixMs = Now(),
        }]));
        Command<Reoffer>(_ =>
        {
            _offered.Clear(); // the dispatcher de-duplicates; this recovers items it lost (a restart, a move)
            OfferWork();
        });
        Command<JobIndexAck>(ack =>
        {
            _indexAcked = Math.Max(_indexAcked, ack.Version);
            if (_state.IsFinished && _indexAcked >= LastSequenceNr) Timers.Cancel(IndexTimer);
        });
        Command<RefreshIndex>(_ => IndexRow(urgent: false));
        Command<SaveSnapshotSuccess>(saved =>
        {
            // The newest snapshot supersedes every event and snapshot before it: journal rows stay bounded by the interval.
            // Saves can complete out of order (the store runs them concurrently): an older one confirmed after a newer one
            // is deleted again here rather than left behind.
            _newestSnapshot = Math.Max(_newestSnapshot, saved.Metadata.SequenceNr);
            DeleteMessages(_newestSnapshot);
            DeleteSnapshots(new SnapshotSelectionCriteria(_newestSnapshot - 1));
        });
        Command<SaveSnapshotFailure>(f => _log.Warning("Job {JobId}: snapshot failed ({Reason}); recovery replays more events", _state.JobId, f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Job {JobId}: deleting superseded events failed: {Reason}", _state.JobId, f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("Job {JobId}: deleting superseded snapshots failed: {Reason}", _state.JobId, f.Cause.Message));
        Command<ReceiveTimeout>(_ =>
        {
            if (_indexAcked < LastSequenceNr)
            {
                IndexRow(urgent: true); // leave only once the index has the final row
                return;
            }
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
    }

    public override string PersistenceId { get; }
    public ITimerScheduler Timers { get; set; } = null!;

    public static string PersistenceIdFor(string jobId) => $"job-{jobId}";

    public static Props PropsFor(string jobId, IActorRef dispatcher, IActorRef index, IArtifactStore artifacts, CoordinatorOptions options,
        CoordinatorMetrics? metrics = null, IMemoStore? memo = null) =>
        Props.Create(() => new JobEntity(jobId, dispatcher, index, artifacts, options, metrics, memo));

    protected override void PostStop()
    {
        AnswerWaiters(_waiters.TakeAll()); // passivated or handed off: whoever waits asks again, wherever the job is then
        _metrics?.JobStopped(_state.JobId);
        base.PostStop();
    }

    private void OnRecovered()
    {
        if (_state.Phase == JobPhase.New) return;
        _log.Info("Job {JobId} recovered in phase {Phase}, {Done}/{Total} work items scored",
            _state.JobId, _state.Phase, _state.WorkItemsDone, _state.WorkItemCount);
        _rate.Record(Now(), _state.Evaluations); // the rate is measured from here: the time before the restart is unknown
        AfterStateChanged();
    }

    private void Handle(StartJob command)
    {
        var events = _state.Decide(command, _options.WorkItemSize, _options.EvalBatch, Now(), _options.ItemsPerShortJob);
        if (events.Count == 0)
        {
            ReplyStatus();
            return;
        }
        PersistAndApply(events, ReplyStatus);
        if (command.Reuse is { } reuse)
            _log.Info("Job {JobId} answered from finished job {SourceJobId}'s result; nothing to evaluate", _state.JobId, reuse.SourceJobId);
    }

    private void Handle(ScoreWorkItem command)
    {
        if (_state.Phase == JobPhase.New)
        {
            UnknownJob();
            return;
        }
        _scoresWaiting.Add(command);
        if (_scoresWaiting.Count == 1 && _options.ScoreWriteLinger > TimeSpan.Zero && !WaitingScoresCannotWait())
            Timers.StartSingleTimer(LingerTimer, LingerOver.Instance, _options.ScoreWriteLinger);
        WriteWaitingScoresIfDue();
    }

    /// <summary>
    /// Writes the waiting score blocks if the journal is free and they are due: once the first of them has waited
    /// <see cref="CoordinatorOptions.ScoreWriteLinger"/> for others to share its write, or at once when no other block can
    /// come before they are written (they are the rest of the plan decided so far) or when they change what the job does
    /// next (the baseline, a failure). The linger timer runs until its message is handled (Akka drops a single timer then).
    /// </summary>
    private void WriteWaitingScoresIfDue()
    {
        if (_writes == 0 && _scoresWaiting.Count > 0 && (!Timers.IsTimerActive(LingerTimer) || WaitingScoresCannotWait()))
            WriteWaitingScores();
    }

    private bool WaitingScoresCannotWait() =>
        _scoresWaiting.Count >= _state.ItemsUnscored || _scoresWaiting.Any(c => c.Item.Baseline || !string.IsNullOrEmpty(c.Error));

    /// <summary>
    /// Group commit: every score block that arrived while the journal was busy, or while the first of them lingered
    /// (<see cref="WriteWaitingScoresIfDue"/>), goes into one write. One write per block bounded a job at one journal round
    /// trip per work item (about 100 items/s on SQLite), so a job's bookkeeping, not the workers, set its pace and with it
    /// its share of the workers. Blocks are decided in arrival order against the state as written so far; a block that
    /// changes what later ones mean (the baseline, a failure) ends the write.
    /// </summary>
    private void WriteWaitingScores()
    {
        var events = new List<IJobEvent>();
        var inThisWrite = new HashSet<long>();
        var taken = 0;
        var seen = _resultsSeen;
        foreach (var command in _scoresWaiting)
        {
            var decided = inThisWrite.Add(command.Item.Baseline ? BaselineKey : command.Item.First)
                ? _state.Decide(command, Now())
                : []; // the same item twice (a re-issued lease's result): the state as written does not know the first yet
            if (decided.Count > 0 && !decided.All(e => e is ItemScored) && events.Count > 0) break; // next write
            taken++;
            seen = Math.Max(seen, command.ResultStamp);
            events.AddRange(decided);
            if (decided.Count > 0 && !decided.All(e => e is ItemScored)) break;
        }
        _scoresWaiting.RemoveRange(0, taken);
        Timers.Cancel(LingerTimer); // blocks left behind (after the baseline or a failure) go in the next write
        if (events.Count == 0)
        {
            _resultsSeen = seen; // nothing to record: handled as they came
            return;
        }
        // Seen once written: a re-offer while this write is on its way must not let the dispatcher lease these items again.
        PersistAndApply(events, () => _resultsSeen = seen, unstashed: true);
    }

    private void Handle(CancelJob command)
    {
        if (_state.Phase == JobPhase.New)
        {
            UnknownJob();
            return;
        }
        var events = _state.Decide(command, Now());
        if (events.Count == 0) ReplyStatus();
        else PersistAndApply(events, ReplyStatus);
    }

    private void Handle(DeleteJob command)
    {
        var events = _state.Decide(command, Now());
        if (events.Count == 0)
        {
            UnknownJob();
            return;
        }
        var sender = Sender;
        var jobId = _state.JobId;
        PersistAll(events, e =>
        {
            if (e is JobCancelled) _dispatcher.Tell(new WithdrawJob { JobId = jobId });
            _state.Apply(e);
            if (e is not JobDeleted) return;
            Timers.CancelAll();
            _index.Tell(new RemoveIndexedJob { JobId = jobId });
            // Nothing of the job stays in the journal; if deleting fails, replaying JobDeleted still forgets it.
            DeleteMessages(LastSequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue));
            sender.Tell(new JobDeletedReply { JobId = jobId });
            _log.Info("Job {JobId} deleted", jobId);
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
    }

    private void Handle(AssemblyFinished finished) =>
        PersistAndApply([new JobCompleted { Outcome = finished.Outcome, FinishedUnixMs = finished.FinishedUnixMs }]);

    /// <param name="unstashed">Commands keep being handled while the events are written (score blocks queue for the next
    /// write, status is answered from the state as written); otherwise they wait until the events are applied.</param>
    private void PersistAndApply(IReadOnlyList<IJobEvent> events, Action? then = null, bool unstashed = false)
    {
        var remaining = events.Count;
        var phaseChanged = false;
        _writes++;
        Action<IJobEvent> apply = e =>
        {
            var phase = _state.Phase;
            _state.Apply(e);
            phaseChanged |= _state.Phase != phase || e is PlanExtended;
            if (e is ItemScored scored)
            {
                _offered.Remove(scored.First);
                _itemsSinceSnapshot++;
            }
            if (e is BaselineScored) _offered.Remove(BaselineKey);
            if (e is BaselineScored or ItemScored) _rate.Record(Now(), _state.Evaluations);
            if (--remaining > 0) return;
            then?.Invoke();
            // What follows may persist again, which Akka.NET does not flush from an unstashed write's handler: it runs
            // as the next command instead (the write still counts as under way until then, so score blocks keep waiting).
            if (unstashed) Self.Tell(new WriteApplied(phaseChanged));
            else AfterWrite(phaseChanged);
        };
        if (unstashed) PersistAllAsync(events, apply);
        else PersistAll(events, apply);
    }

    private void AfterWrite(bool phaseChanged)
    {
        _writes = Math.Max(0, _writes - 1);
        SnapshotIfDue(phaseChanged);
        AfterStateChanged();
        WriteWaitingScoresIfDue();
    }

    private sealed record WriteApplied(bool PhaseChanged);

    /// <summary>
    /// The journal refused the events (they could not be serialised): the write is over without them, so waiting blocks
    /// may go; the refused items stay unscored and are offered again by the re-offer timer.
    /// </summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        _writes = 0;
    }

    // Journal writes under way (PersistAndApply), and the score blocks that arrived meanwhile, for the next write.
    private int _writes;
    private readonly List<ScoreWorkItem> _scoresWaiting = [];

    /// <summary>Every <see cref="CoordinatorOptions.SnapshotIntervalFor"/> scored items, and at phase changes.</summary>
    private void SnapshotIfDue(bool phaseChanged)
    {
        var interval = _options.SnapshotIntervalFor(_state.WorkItemCount);
        if (interval <= 0 || !(phaseChanged || _itemsSinceSnapshot >= interval)) return;
        _itemsSinceSnapshot = 0;
        SaveSnapshot(_state.ToSnapshot());
    }

    private int _itemsSinceSnapshot;
    private long _newestSnapshot;

    /// <summary>Whatever the new state calls for: more work offered, the maps assembled, or winding down.</summary>
    private void AfterStateChanged()
    {
        if (_waiters.Count > 0) AnswerWaiters(_waiters.TakeChanged(_state.ApiState));
        _metrics?.JobPhaseChanged(_state.JobId, _state.Phase,
            ((_state.IsFinished ? _state.FinishedUnixMs : Now()) - _state.SubmittedUnixMs) / 1000.0);
        IndexRow(urgent: _state.Phase != _indexSentPhase);
        if (!Timers.IsTimerActive(IndexTimer))
            Timers.StartPeriodicTimer(IndexTimer, RefreshIndex.Instance, _options.IndexRefreshInterval);
        if (_state.IsFinished)
        {
            Timers.Cancel(ReofferTimer);
            _dispatcher.Tell(new WithdrawJob { JobId = _state.JobId });
            // A finished job leaves memory (and the remembered-entity set) after a while; its events stay.
            Context.SetReceiveTimeout(_options.FinishedJobIdleTimeout);
            return;
        }
        var stop = _state.DecideStop();
        if (stop.Count > 0)
        {
            _log.Info("Job {JobId}: sampling stopped after {Samples} samples, the ranking held", _state.JobId,
                ((SamplingStopped)stop[0]).SamplesUsed);
            PersistAndApply(stop);
            return;
        }
        var extend = _state.DecidePlanExtension();
        if (extend.Count > 0)
        {
            var extended = (PlanExtended)extend[0];
            _log.Info("Job {JobId}: adaptive step {Step} evaluates {Perturbations} perturbations", _state.JobId, extended.Step,
                extended.Runs.Where((_, i) => i % 2 == 1).Sum());
            PersistAndApply(extend);
            return;
        }
        if (_state.AllItemsScored)
        {
            StartAssembly();
            return;
        }
        OfferWork();
        if (!Timers.IsTimerActive(ReofferTimer))
            Timers.StartPeriodicTimer(ReofferTimer, Reoffer.Instance, _options.ReofferInterval);
    }

    private void OfferWork()
    {
        if (_state.IsFinished || _state.AllItemsScored) return;
        var room = _options.OfferWindow - _offered.Count;
        if (room <= 0) return;
        var items = _state.PendingItems()
            .Where(item => !_offered.Contains(item.Baseline ? BaselineKey : item.First))
            .Take(room)
            .ToList();
        if (items.Count == 0) return;
        foreach (var item in items) _offered.Add(item.Baseline ? BaselineKey : item.First);
        _dispatcher.Tell(new OfferWork { Work = WorkSpecForWorkers(), Items = { items }, ResultsSeen = _resultsSeen });
    }

    /// <summary>
    /// What travels with every lease: the spec without its labels (workers never need them, and 1,000 labels would
    /// make each lease some 20 KB), and for coarse-to-fine jobs the runs of windows selected so far. Rebuilt only when
    /// the targets or the selection change.
    /// </summary>
    private WorkSpec WorkSpecForWorkers()
    {
        if (_workSpec is not null && _workSpec.Targets.Count == _state.Targets.Length && _workSpecSteps == _state.StepsDecided)
            return _workSpec;
        var spec = _state.Spec!.Clone();
        spec.Labels.Clear();
        _workSpecSteps = _state.StepsDecided;
        return _workSpec = new WorkSpec
        {
            JobId = _state.JobId, Spec = spec, Targets = { _state.Targets }, Perturbations = { _state.PerturbationRuns() },
        };
    }

    private WorkSpec? _workSpec;
    private int _workSpecSteps;

    private void StartAssembly()
    {
        if (_assembling) return;
        _assembling = true;
        Timers.Cancel(ReofferTimer);
        _dispatcher.Tell(new WithdrawJob { JobId = _state.JobId }); // after an early stop, queued samples are not needed
        _log.Info("Job {JobId}: all {Count} work items scored, assembling maps", _state.JobId, _state.WorkItemCount);
        var state = _state;
        var artifacts = _artifacts;
        var memo = _memo;
        var log = _log;
        Task.Run(async () =>
        {
            var finishedUnixMs = Now();
            var outcome = await JobAssembly.AssembleAsync(state, artifacts, finishedUnixMs);
            // Recorded before the job reads as done, so whoever saw it done finds it for reuse. A lookup checks that the
            // job it finds is done (not still completing, not deleted), so recording early is harmless.
            if (memo is not null)
            {
                try
                {
                    await memo.PutAsync(state.Spec!.ReuseKey(), state.JobId);
                }
                catch (Exception e)
                {
                    log.Warning("Job {JobId}: recording its result for reuse failed ({Reason}); later identical jobs compute again",
                        state.JobId, e.Message);
                }
            }
            return new AssemblyFinished(outcome, finishedUnixMs);
        }).PipeTo(Self);
    }

    /// <summary>Answered at once, or held while the job's state is the one the asker has seen (see <see cref="GetJobStatus"/>).</summary>
    private void Handle(GetJobStatus ask)
    {
        if (ask.WaitMs <= 0 || _state.Phase == JobPhase.New || _state.ApiState != ask.StateSeen)
        {
            ReplyStatus();
            return;
        }
        var now = DateTime.UtcNow;
        _waiters.Hold(Sender, ask.StateSeen, TimeSpan.FromMilliseconds(ask.WaitMs), now);
        ScheduleWaiters(now);
    }

    private void AnswerWaiters(List<IActorRef> askers)
    {
        if (askers.Count == 0) return;
        // A job deleted while they waited answers as one never submitted, as their next ask would have been answered.
        object answer = _state.Phase == JobPhase.New ? NoSuchJob() : new JobStatusResult { Progress = Progress() };
        foreach (var asker in askers) asker.Tell(answer);
    }

    /// <summary>
    /// One timer, for the earliest held ask's end, restarted only for an earlier one: restarting it on every change of
    /// the job would drop each firing that waits in the mailbox behind a result, and a busy job's waiters would wait for
    /// its end. Asks answered before their end leave it to fire for nothing, and it is set again for the next.
    /// </summary>
    private void ScheduleWaiters(DateTime now)
    {
        if (_waiters.NextDue is not { } due || _waitTimerDue is { } scheduled && scheduled <= due) return;
        _waitTimerDue = due;
        Timers.StartSingleTimer(WaitTimer, AnswerDueWaiters.Instance, due > now ? due - now : TimeSpan.Zero);
    }

    private const string WaitTimer = "status-waiters";

    private sealed class AnswerDueWaiters
    {
        public static readonly AnswerDueWaiters Instance = new();
    }

    private void ReplyStatus()
    {
        if (_state.Phase == JobPhase.New)
        {
            UnknownJob();
            return;
        }
        Sender.Tell(new JobStatusResult { Progress = Progress() });
    }

    private void ReplyResult()
    {
        if (_state.Phase == JobPhase.New)
        {
            UnknownJob();
            return;
        }
        Sender.Tell(new JobResultReply
        {
            Progress = Progress(), Outcome = _state.Outcome, Spec = _state.Spec,
            Baseline = { _state.Baseline }, Targets = { _state.Targets },
        });
    }

    private Contracts.Api.JobProgress Progress()
    {
        var progress = _state.ToProgress();
        _rate.Fill(progress, Now());
        return progress;
    }

    private JobRejected NoSuchJob() => new() { JobId = _state.JobId, Reason = $"no job with id '{_state.JobId}'" };

    /// <summary>A command for a job id that was never submitted: say so and leave, so no empty entity is remembered.</summary>
    private void UnknownJob()
    {
        Sender.Tell(NoSuchJob());
        Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    /// <summary>
    /// Sends the job's row to the index: at once when the phase changed (or <paramref name="urgent"/>), otherwise at
    /// most once per refresh interval; again until the index acknowledges it, since the index may be moving or down.
    /// </summary>
    private void IndexRow(bool urgent)
    {
        if (_state.Phase == JobPhase.New || _indexAcked >= LastSequenceNr) return;
        var due = urgent || _indexSent < LastSequenceNr && DateTime.UtcNow - _indexSentAt >= _options.IndexRefreshInterval
                  || DateTime.UtcNow - _indexSentAt >= 2 * _options.IndexRefreshInterval; // sent, never acknowledged
        if (!due) return;
        _index.Tell(new IndexJob { Row = _state.ToIndexRow(LastSequenceNr) });
        _indexSent = LastSequenceNr;
        _indexSentPhase = _state.Phase;
        _indexSentAt = DateTime.UtcNow;
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private const long BaselineKey = -1;

    private sealed record AssemblyFinished(Contracts.Messages.JobOutcome Outcome, long FinishedUnixMs);

    private sealed class LingerOver
    {
        public static readonly LingerOver Instance = new();
    }

    private sealed class Reoffer
    {
        public static readonly Reoffer Instance = new();
    }

    private sealed class RefreshIndex
    {
        public static readonly RefreshIndex Instance = new();
    }
}
