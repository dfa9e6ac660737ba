using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Lantern.Contracts.Cluster;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Hosting;
using Lantern.Coordinator.Jobs;
using ApiJobState = Lantern.Contracts.Api.JobState;
using JobProgress = Lantern.Contracts.Api.JobProgress;

namespace Lantern.Coordinator.DatasetJobs;

/// <summary>
/// One dataset job: a persistent, sharded entity that explains every image of a dataset by starting one ordinary job per
/// image (id derived from its position), at most <see cref="CoordinatorOptions.DatasetImagesInFlight"/> at a time and in
/// the dataset's order, and records each image's outcome when its job ends. The image jobs share the workers like any
/// jobs, persist their own scores and survive restarts on their own; after a restart this entity finds the running ones
/// again by their ids. It holds no scores, so its memory is a few hundred bytes per image.
/// </summary>
public sealed class DatasetJobEntity : ReceivePersistentActor, IWithTimers
{
    private const string TickTimer = "tick";
    /// <summary>An image whose planning or start failed this many times for no reason of its own fails.</summary>
    private const int MaxStartAttempts = 5;

    private readonly DatasetJobState _state;
    private readonly IActorRef _jobs;
    private readonly IActorRef _index;
    private readonly IDatasetImagePlanner _planner;
    private readonly CoordinatorOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<int, RunningImage> _running = [];
    private readonly Dictionary<int, int> _startAttempts = [];
    private readonly ProgressRate _rate = new();
    private long _indexAcked = -1;
    private DateTime _indexSentAt = DateTime.MinValue;
    private IndexedJobPhase _indexSentPhase = IndexedJobPhase.Unspecified;

    public DatasetJobEntity(string jobId, IActorRef jobs, IActorRef index, IDatasetImagePlanner planner, CoordinatorOptions options)
    {
        _state = new DatasetJobState(jobId);
        _jobs = jobs;
        _index = index;
        _planner = planner;
        _options = options;
        PersistenceId = PersistenceIdFor(jobId);

        Recover<IDatasetJobEvent>(e => _state.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            if (_state.Phase == DatasetJobPhase.New) return;
            _log.Info("Dataset job {JobId} recovered: {Done}/{Total} images finished", jobId, _state.ImagesFinished, _state.Images.Count);
            AfterChange();
        });

        Command<StartDatasetJob>(Handle);
        Command<GetJobStatus>(_ => Reply(() => new JobStatusResult { Progress = Progress() }));
        Command<GetJobResult>(_ => Reply(() => new DatasetJobResultReply
        {
            Progress = Progress(), Template = _state.Template,
            Images = { _state.Outcomes(i => _running.TryGetValue(i, out var r) && r.Started ? r.JobId : null) },
        }));
        Command<CancelJob>(Handle);
        Command<DeleteJob>(Handle);
        Command<Tick>(_ =>
        {
            StartImages();
            PollImages();
            IndexRow(urgent: false);
        });
        Command<ImageStarted>(Handle);
        Command<ImageNotPlanned>(m => Finish(m.Index, DatasetJobState.NotDone(m.Index, _state.Images[m.Index], "", IndexedJobPhase.Failed, m.Reason)));
        Command<ImageStartFailed>(Handle);
        Command<ImageStatus>(Handle);
        Command<ImageResult>(Handle);
        Command<JobIndexAck>(ack =>
        {
            _indexAcked = Math.Max(_indexAcked, ack.Version);
            if (_state.IsFinished && _indexAcked >= LastSequenceNr) Timers.Cancel(TickTimer);
        });
        Command<ReceiveTimeout>(_ =>
        {
            if (_state.IsFinished && _indexAcked >= LastSequenceNr) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            else IndexRow(urgent: true);
        });
    }

    public override string PersistenceId { get; }
    public ITimerScheduler Timers { get; set; } = null!;

    public static string PersistenceIdFor(string jobId) => $"dataset-job-{jobId}";

    public static Props PropsFor(string jobId, IActorRef jobs, IActorRef index, IDatasetImagePlanner planner, CoordinatorOptions options) =>
        Props.Create(() => new DatasetJobEntity(jobId, jobs, index, planner, options));

    private void Handle(StartDatasetJob command)
    {
        if (_state.Phase != DatasetJobPhase.New)
        {
            Sender.Tell(new JobStatusResult { Progress = Progress() }); // a retried submit: the same job
            return;
        }
        if (command.Images.Count == 0 || command.Template is null)
        {
            Sender.Tell(new JobRejected { JobId = _state.JobId, Reason = "a dataset job needs a template spec and at least one image" });
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            return;
        }
        var accepted = new DatasetJobAccepted
        {
            Template = command.Template, Images = { command.Images }, Dataset = command.Dataset, SubmittedUnixMs = command.SubmittedUnixMs,
        };
        Persist(accepted, e =>
        {
            _state.Apply(e);
            _log.Info("Dataset job {JobId} accepted: {Images} images of {Dataset}", _state.JobId, _state.Images.Count, _state.Dataset);
            Sender.Tell(new JobStatusResult { Progress = Progress() });
            AfterChange();
        });
    }

    private void Handle(CancelJob _)
    {
        if (_state.Phase == DatasetJobPhase.New)
        {
            UnknownJob();
            return;
        }
        if (_state.IsFinished)
        {
            Sender.Tell(new JobStatusResult { Progress = Progress() });
            return;
        }
        Persist(new DatasetJobCancelled { FinishedUnixMs = Now() }, e =>
        {
            _state.Apply(e);
            // Images still being planned are cancelled when their start is confirmed (ImageStarted).
            foreach (var image in _running.Values.Where(r => r.Started)) _jobs.Tell(new CancelJob { JobId = image.JobId });
            _running.Clear();
            Sender.Tell(new JobStatusResult { Progress = Progress() });
            AfterChange();
        });
    }

    private void Handle(DeleteJob _)
    {
        if (_state.Phase == DatasetJobPhase.New)
        {
            UnknownJob();
            return;
        }
        var imageJobs = _state.Outcomes(i => _running.TryGetValue(i, out var r) ? r.JobId : null)
            .Select(o => o.JobId).Where(id => id.Length > 0).ToList();
        var events = new List<IDatasetJobEvent>();
        if (!_state.IsFinished) events.Add(new DatasetJobCancelled { FinishedUnixMs = Now() });
        events.Add(new DatasetJobDeleted { DeletedUnixMs = Now() });
        var sender = Sender;
        var jobId = _state.JobId;
        PersistAll(events, e =>
        {
            _state.Apply(e);
            if (e is not DatasetJobDeleted) return;
            // The image jobs go with it (a running one is cancelled first by its own entity).
            foreach (var imageJob in imageJobs) _jobs.Tell(new DeleteJob { JobId = imageJob });
            _running.Clear();
            Timers.CancelAll();
            _index.Tell(new RemoveIndexedJob { JobId = jobId });
            DeleteMessages(LastSequenceNr);
            sender.Tell(new JobDeletedReply { JobId = jobId });
            _log.Info("Dataset job {JobId} deleted with its {Images} image jobs", jobId, imageJobs.Count);
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
    }

    /// <summary>Starts the next images' jobs, in the dataset's order, up to the window.</summary>
    private void StartImages()
    {
        foreach (var index in _state.ImagesToRun(_options.DatasetImagesInFlight))
        {
            if (_running.ContainsKey(index)) continue;
            var imageJobId = JobIds.ImageJob(_state.JobId, index);
            _running[index] = new RunningImage(imageJobId);
            StartImageAsync(index, imageJobId, _state.JobId, _state.Template!, _state.Images[index], _planner, _jobs, _options.DatasetAskTimeout)
                .PipeTo(Self);
        }
    }

    private static async Task<object> StartImageAsync(int index, string imageJobId, string datasetJobId, JobSpec template,
        DatasetImage image, IDatasetImagePlanner planner, IActorRef jobs, TimeSpan timeout)
    {
        JobSpec spec;
        try
        {
            spec = await planner.PlanAsync(template, image, imageJobId, CancellationToken.None);
        }
        catch (ImageNotExplainableException e)
        {
            return new ImageNotPlanned(index, e.Message);
        }
        catch (Exception e)
        {
            return new ImageStartFailed(index, $"planning failed: {e.Message}");
        }
        spec.ParentJobId = datasetJobId;
        try
        {
            var reply = await jobs.Ask<object>(new StartJob
            {
                JobId = imageJobId, Spec = spec, SubmittedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            }, timeout);
            return reply is JobStatusResult ? new ImageStarted(index) : new ImageStartFailed(index, $"the job was refused: {reply}");
        }
        catch (Exception e)
        {
            return new ImageStartFailed(index, e.Message);
        }
    }

    private void Handle(ImageStarted started)
    {
        if (_running.TryGetValue(started.Index, out var image))
        {
            image.Started = true;
            return;
        }
        FollowDatasetJob(started.Index);
    }

    private void Handle(ImageStartFailed failed)
    {
        if (!_running.Remove(failed.Index))
        {
            // A start that timed out may still have created the job.
            FollowDatasetJob(failed.Index);
            return;
        }
        var attempts = _startAttempts[failed.Index] = _startAttempts.GetValueOrDefault(failed.Index) + 1;
        _log.Warning("Dataset job {JobId}: starting image {Index} failed ({Reason}), attempt {Attempt} of {Max}",
            _state.JobId, failed.Index, failed.Reason, attempts, MaxStartAttempts);
        if (attempts >= MaxStartAttempts)
            Finish(failed.Index, DatasetJobState.NotDone(failed.Index, _state.Images[failed.Index], "", IndexedJobPhase.Failed, failed.Reason));
        // Otherwise the next tick tries again.
    }

    /// <summary>
    /// An image whose job was being started when the dataset job was cancelled or deleted: its job, if it exists, is
    /// cancelled or deleted with it (one that does not exist answers that and is forgotten).
    /// </summary>
    private void FollowDatasetJob(int index)
    {
        var imageJobId = JobIds.ImageJob(_state.JobId, index);
        if (_state.Phase == DatasetJobPhase.Cancelled) _jobs.Tell(new CancelJob { JobId = imageJobId });
        else if (_state.Phase == DatasetJobPhase.New) _jobs.Tell(new DeleteJob { JobId = imageJobId });
    }

    /// <summary>Asks each started image job how far it is (one question at a time per job).</summary>
    private void PollImages()
    {
        foreach (var (index, image) in _running)
        {
            if (!image.Started || image.Asking) continue;
            image.Asking = true;
            var i = index;
            _jobs.Ask<object>(new GetJobStatus { JobId = image.JobId }, _options.DatasetAskTimeout)
                .ContinueWith(t => (object)new ImageStatus(i, t.IsCompletedSuccessfully && t.Result is JobStatusResult s ? s.Progress : null))
                .PipeTo(Self);
        }
    }

    private void Handle(ImageStatus status)
    {
        if (!_running.TryGetValue(status.Index, out var image)) return;
        image.Asking = false;
        if (status.Progress is not { } progress) return; // asked again at the next tick
        image.Last = progress;
        switch (progress.State)
        {
            case ApiJobState.Done:
                image.Asking = true;
                var i = status.Index;
                _jobs.Ask<object>(new GetJobResult { JobId = image.JobId }, _options.DatasetAskTimeout)
                    .ContinueWith(t => (object)new ImageResult(i, t.IsCompletedSuccessfully ? t.Result as JobResultReply : null))
                    .PipeTo(Self);
                break;
            case ApiJobState.Failed or ApiJobState.Cancelled:
                var phase = progress.State == ApiJobState.Failed ? IndexedJobPhase.Failed : IndexedJobPhase.Cancelled;
                var error = progress.State == ApiJobState.Failed ? progress.Error : "the image's job was cancelled";
                Finish(status.Index, DatasetJobState.NotDone(status.Index, _state.Images[status.Index], image.JobId, phase, error,
                    progress.Evaluations));
                break;
        }
    }

    private void Handle(ImageResult result)
    {
        if (!_running.TryGetValue(result.Index, out var image)) return;
        image.Asking = false;
        if (result.Reply is not { } reply) return; // its status is asked again at the next tick, then its result
        Finish(result.Index, DatasetJobState.Done(result.Index, _state.Images[result.Index], image.JobId, reply));
    }

    private void Finish(int index, DatasetImageOutcome outcome)
    {
        if (_state.Phase != DatasetJobPhase.Running || _state.IsImageFinished(index)) return;
        Persist(new DatasetImageFinished { Outcome = outcome }, e =>
        {
            _state.Apply(e);
            _running.Remove(index);
            _startAttempts.Remove(index);
            if (_state.AllImagesFinished)
            {
                Persist(new DatasetJobFinished { FinishedUnixMs = Now() }, f =>
                {
                    _state.Apply(f);
                    _log.Info("Dataset job {JobId} finished: {Done} images explained, {Failed} failed", _state.JobId,
                        _state.Images.Count - _state.ImagesFailed, _state.ImagesFailed);
                    AfterChange();
                });
                return;
            }
            AfterChange();
        });
    }

    private void AfterChange()
    {
        IndexRow(urgent: true);
        if (!Timers.IsTimerActive(TickTimer)) Timers.StartPeriodicTimer(TickTimer, Tick.Instance, _options.DatasetPollInterval);
        if (_state.IsFinished)
        {
            Context.SetReceiveTimeout(_options.FinishedJobIdleTimeout);
            return;
        }
        StartImages();
    }

    private RunningImages Running()
    {
        var reported = _running.Values.Where(r => r.Last is not null).Select(r => r.Last!).ToList();
        return new RunningImages(reported.Count, reported.Sum(p => p.Evaluations), reported.Sum(p => p.EvaluationsTotal));
    }

    private JobProgress Progress()
    {
        var progress = _state.ToProgress(Running());
        if (_state.IsFinished) return progress;
        _rate.Record(Now(), progress.Evaluations);
        _rate.Fill(progress, Now());
        return progress;
    }

    private void Reply(Func<object> answer)
    {
        if (_state.Phase == DatasetJobPhase.New) UnknownJob();
        else Sender.Tell(answer());
    }

    /// <summary>A command for an id that was never submitted: say so and leave, so no empty entity is remembered.</summary>
    private void UnknownJob()
    {
        Sender.Tell(new JobRejected { JobId = _state.JobId, Reason = $"no job with id '{_state.JobId}'" });
        Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    /// <summary>
    /// Sends the job's row to the index: at once when <paramref name="urgent"/> and the row is new, otherwise at most once
    /// per refresh interval while the job runs (its progress moves without events) or until the index acknowledges it.
    /// </summary>
    private void IndexRow(bool urgent)
    {
        if (_state.Phase == DatasetJobPhase.New) return;
        var row = _state.ToIndexRow(LastSequenceNr, Running());
        var unacknowledged = _indexAcked < LastSequenceNr;
        var due = urgent && (unacknowledged || row.Phase != _indexSentPhase)
                  || (unacknowledged || !_state.IsFinished) && DateTime.UtcNow - _indexSentAt >= _options.IndexRefreshInterval;
        if (!due) return;
        _index.Tell(new IndexJob { Row = row });
        _indexSentAt = DateTime.UtcNow;
        _indexSentPhase = row.Phase;
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private sealed class RunningImage(string jobId)
    {
        public string JobId { get; } = jobId;
        /// <summary>Its StartJob was answered: the job exists.</summary>
        public bool Started { get; set; }
        /// <summary>A status or result question is on its way.</summary>
        public bool Asking { get; set; }
        public JobProgress? Last { get; set; }
    }

    private sealed record ImageStarted(int Index);
    private sealed record ImageNotPlanned(int Index, string Reason);
    private sealed record ImageStartFailed(int Index, string Reason);
    private sealed record ImageStatus(int Index, JobProgress? Progress);
    private sealed record ImageResult(int Index, JobResultReply? Reply);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
