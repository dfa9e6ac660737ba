using Lantern.Contracts.Messages;
using Lantern.Methods;
using Lantern.Methods.Gradients;
using ApiJobState = Lantern.Contracts.Api.JobState;
using JobProgress = Lantern.Contracts.Api.JobProgress;

namespace Lantern.Coordinator.DatasetJobs;

public enum DatasetJobPhase { New, Running, Done, Failed, Cancelled }

/// <summary>The image jobs running now, as their last status said: how many report, their evaluations done and needed.</summary>
public readonly record struct RunningImages(int Count, long Evaluations, long EvaluationsTotal);

/// <summary>
/// What a dataset job knows, rebuilt from its events: the template spec, the dataset's images, and the outcome of each
/// image whose job has ended. Nothing per evaluation: the image jobs hold their own scores, so this stays a few hundred
/// bytes per image however many evaluations each one takes.
/// </summary>
public sealed class DatasetJobState(string jobId)
{
    /// <summary>How many of the model's classes the index keeps per image, highest first.</summary>
    public const int TopClassCount = 5;

    private readonly Dictionary<int, DatasetImageOutcome> _finished = [];
    private int _lowestUnfinished;

    public string JobId { get; } = jobId;
    public DatasetJobPhase Phase { get; private set; } = DatasetJobPhase.New;
    public JobSpec? Template { get; private set; }
    public IReadOnlyList<DatasetImage> Images { get; private set; } = [];
    public string Dataset { get; private set; } = "";
    public long SubmittedUnixMs { get; private set; }
    public long FinishedUnixMs { get; private set; }
    public int ImagesFinished => _finished.Count;
    public int ImagesFailed { get; private set; }
    public long FinishedEvaluations { get; private set; }
    public bool IsFinished => Phase is DatasetJobPhase.Done or DatasetJobPhase.Failed or DatasetJobPhase.Cancelled;
    public bool AllImagesFinished => Images.Count > 0 && _finished.Count == Images.Count;

    public void Apply(IDatasetJobEvent e)
    {
        switch (e)
        {
            case DatasetJobAccepted accepted:
                Template = accepted.Template;
                Images = accepted.Images;
                Dataset = accepted.Dataset;
                SubmittedUnixMs = accepted.SubmittedUnixMs;
                Phase = DatasetJobPhase.Running;
                break;
            case DatasetImageFinished { Outcome: var outcome }:
                if (!_finished.TryAdd(outcome.Index, outcome)) break;
                if (outcome.Phase != IndexedJobPhase.Done) ImagesFailed++;
                FinishedEvaluations += outcome.Evaluations;
                while (_finished.ContainsKey(_lowestUnfinished)) _lowestUnfinished++;
                break;
            case DatasetJobFinished finished:
                // Done when any image was explained; a job none of whose images could be is failed, with the first reason.
                Phase = ImagesFailed == Images.Count ? DatasetJobPhase.Failed : DatasetJobPhase.Done;
                FinishedUnixMs = finished.FinishedUnixMs;
                break;
            case DatasetJobCancelled cancelled:
                Phase = DatasetJobPhase.Cancelled;
                FinishedUnixMs = cancelled.FinishedUnixMs;
                break;
            case DatasetJobDeleted:
                Phase = DatasetJobPhase.New;
                Template = null;
                Images = [];
                _finished.Clear();
                break;
        }
    }

    public bool IsImageFinished(int index) => _finished.ContainsKey(index);

    /// <summary>
    /// The images that should have a running job now: the lowest-numbered unfinished ones, at most <paramref name="window"/>.
    /// Images start in order, so after a restart these are exactly the ones whose jobs were running (plus, perhaps, the
    /// next ones): starting an image job again is harmless, the job id being derived from the image's position.
    /// </summary>
    public IEnumerable<int> ImagesToRun(int window)
    {
        if (Phase != DatasetJobPhase.Running) yield break;
        var taken = 0;
        for (var i = _lowestUnfinished; i < Images.Count && taken < window; i++)
        {
            if (_finished.ContainsKey(i)) continue;
            taken++;
            yield return i;
        }
    }

    /// <summary>Every image in the dataset's order: its outcome when its job has ended, else what is known so far.</summary>
    public IEnumerable<DatasetImageOutcome> Outcomes(Func<int, string?> runningJobId)
    {
        for (var i = 0; i < Images.Count; i++)
        {
            yield return _finished.TryGetValue(i, out var outcome)
                ? outcome
                : new DatasetImageOutcome { Index = i, Image = Images[i], JobId = runningJobId(i) ?? "" };
        }
    }

    /// <summary>An image whose job is done: its top classes from the job's unperturbed scores.</summary>
    public static DatasetImageOutcome Done(int index, DatasetImage image, string imageJobId, JobResultReply result)
    {
        var outcome = new DatasetImageOutcome
        {
            Index = index, Image = image, JobId = imageJobId, Phase = IndexedJobPhase.Done,
            Evaluations = result.Progress.Evaluations, Targets = { result.Targets },
        };
        if (result.Spec is { } spec && result.Baseline.Count > 0)
        {
            outcome.TargetScores.Add(Jobs.JobState.TargetScoresOf(spec, [.. result.Baseline], [.. result.Targets]));
            if (spec.Gradient is { Method: var method } && method == new PooledActivationsMethod(spec.Gradient, spec).Name
                && PooledActivationsMethod.FromSummary(result.Outcome?.SummaryJson ?? "") is { } pooled)
                outcome.Pooled.Add(pooled);
            var probabilities = spec.Probabilities(result.Baseline);
            foreach (var c in Explainers.Scoring.Scores.TopK(probabilities, Math.Min(TopClassCount, probabilities.Length)))
            {
                outcome.TopClasses.Add(c);
                outcome.TopScores.Add(probabilities[c]);
            }
        }
        return outcome;
    }

    /// <summary>An image whose job ended without maps (failed or cancelled), or that could not be planned (no job id).</summary>
    public static DatasetImageOutcome NotDone(int index, DatasetImage image, string imageJobId, IndexedJobPhase phase, string error,
        long evaluations = 0) =>
        new()
        {
            Index = index, Image = image, JobId = imageJobId, Phase = phase, Error = error, Evaluations = evaluations,
        };

    public JobProgress ToProgress(RunningImages running) => new()
    {
        JobId = JobId,
        State = Phase switch
        {
            DatasetJobPhase.Running => ImagesFinished == 0 && running.Evaluations == 0 ? ApiJobState.Queued : ApiJobState.Running,
            DatasetJobPhase.Done => ApiJobState.Done,
            DatasetJobPhase.Failed => ApiJobState.Failed,
            DatasetJobPhase.Cancelled => ApiJobState.Cancelled,
            _ => ApiJobState.Unspecified,
        },
        // A dataset job's work items are its images.
        ItemsDone = ImagesFinished,
        ItemsTotal = Images.Count,
        ImagesDone = ImagesFinished,
        ImagesTotal = Images.Count,
        ImagesFailed = ImagesFailed,
        Evaluations = FinishedEvaluations + running.Evaluations,
        EvaluationsTotal = EvaluationsTotal(running),
        Error = Phase == DatasetJobPhase.Failed ? FirstError() : "",
        Name = Template?.Name ?? "",
        SubmittedUnixMs = SubmittedUnixMs,
        FinishedUnixMs = FinishedUnixMs,
        Method = Template is null ? "" : MethodCatalog.NameOf(Template),
        ModelSha256 = Template?.ModelSha256 ?? "",
        Owner = Template?.Owner ?? "",
        Team = Template?.Team ?? "",
        Priority = Template?.Priority ?? 0,
        Dataset = Dataset,
    };

    public JobIndexRow ToIndexRow(long version, RunningImages running)
    {
        var progress = ToProgress(running);
        return new JobIndexRow
        {
            JobId = JobId,
            Phase = progress.State switch
            {
                ApiJobState.Queued => IndexedJobPhase.Queued,
                ApiJobState.Running => IndexedJobPhase.Running,
                ApiJobState.Done => IndexedJobPhase.Done,
                ApiJobState.Failed => IndexedJobPhase.Failed,
                ApiJobState.Cancelled => IndexedJobPhase.Cancelled,
                _ => IndexedJobPhase.Unspecified,
            },
            Name = progress.Name, Owner = progress.Owner, Team = progress.Team, ModelSha256 = progress.ModelSha256,
            Method = progress.Method, SubmittedUnixMs = SubmittedUnixMs, FinishedUnixMs = FinishedUnixMs,
            ItemsDone = progress.ItemsDone, ItemsTotal = progress.ItemsTotal, Evaluations = progress.Evaluations,
            EvaluationsTotal = progress.EvaluationsTotal, Error = progress.Error, Priority = progress.Priority, Version = version,
            Dataset = Dataset, ImagesDone = ImagesFinished, ImagesTotal = Images.Count, ImagesFailed = ImagesFailed,
        };
    }

    /// <summary>
    /// Finished images count what they ran, running ones what their jobs say they need, and each image not started as
    /// many as the template's job (the dataset's first image, with its baseline).
    /// </summary>
    private long EvaluationsTotal(RunningImages running)
    {
        if (Template is null) return 0;
        long perImage;
        try
        {
            perImage = MethodCatalog.For(Template).PerturbationCount + 1;
        }
        catch (ArgumentException)
        {
            perImage = 0;
        }
        return FinishedEvaluations + running.EvaluationsTotal + perImage * Math.Max(0, Images.Count - ImagesFinished - running.Count);
    }

    private string FirstError() => _finished.Values.OrderBy(o => o.Index).Select(o => o.Error).FirstOrDefault(e => e.Length > 0) ?? "";
}
