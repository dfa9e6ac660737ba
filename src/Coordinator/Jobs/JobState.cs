using ApiJobState = Lantern.Contracts.Api.JobState;
using JobProgress = Lantern.Contracts.Api.JobProgress;
using Lantern.Contracts.Messages;
using Lantern.Explainers.Scoring;
using Lantern.Methods;
using Lantern.Methods.Gradients;

namespace Lantern.Coordinator.Jobs;

public enum JobPhase { New, Queued, Running, Done, Failed, Cancelled }

/// <summary>
/// Everything the job entity knows, rebuilt from its events. <see cref="Decide"/> turns a command into events without
/// touching the state; <see cref="Apply"/> is the only mutator. Apply mutates in place rather than returning a copy
/// because a job's score matrix (perturbations × targets) can be megabytes and arrives one small block at a time.
/// </summary>
public sealed class JobState(string jobId)
{
    public string JobId { get; } = jobId;
    public JobPhase Phase { get; private set; } = JobPhase.New;
    public JobSpec? Spec { get; private set; }
    public long SubmittedUnixMs { get; private set; }
    public long FirstItemUnixMs { get; private set; }
    public long FinishedUnixMs { get; private set; }
    public int WorkItemSize { get; private set; }
    /// <summary>Perturbations the job's method evaluates besides the baseline.</summary>
    public long PerturbationCount { get; private set; }

    /// <summary>Perturbations the maps are made of: all of them, unless sequential sampling stopped early.</summary>
    public long PerturbationsUsed { get; private set; }
    public int[] Targets { get; private set; } = [];
    /// <summary>The model's raw output for the unperturbed image, every class.</summary>
    public float[] Baseline { get; private set; } = [];
    /// <summary>
    /// Score of each target for each perturbation, row-major perturbations × targets; empty for a job whose method folds
    /// its scores (<see cref="FoldsScores"/>), which keeps only the items scored ahead of its folded prefix.
    /// </summary>
    public float[] TargetScores { get; private set; } = [];
    /// <summary>
    /// Methods that reduce each work item to maps (see IExplanationMethod.MapLength): items × targets × MapLength; empty
    /// for a job whose method folds them (<see cref="FoldsScores"/>).
    /// </summary>
    public float[] ItemMaps { get; private set; } = [];
    public int MapLength { get; private set; }

    /// <summary>Maps in a work item's result: one per target, or one for methods whose items each serve one target.</summary>
    private int MapsPerItem => _method is { ItemServesOneTarget: true } ? 1 : Targets.Length;
    public int WorkItemCount { get; private set; }
    public int WorkItemsDone { get; private set; }
    public long Evaluations { get; private set; }
    public SortedSet<string> Workers { get; } = new(StringComparer.Ordinal);
    public JobOutcome? Outcome { get; private set; }
    public string? Error { get; private set; }

    /// <summary>The finished job whose result answered this one (<see cref="JobReused"/>); null for a computed job.</summary>
    public string? ReusedFrom { get; private set; }

    private bool[] _done = [];

    /// <summary>
    /// Methods that fold their work items in order (<see cref="IScoreFold"/>: RISE, input gradients): the fold of items
    /// [0, _foldedItems), and the results (scores, then maps) of the items scored beyond that prefix, by item, until the
    /// gap before them closes.
    /// </summary>
    private IScoreFold? _fold;
    private int _foldedItems;
    private readonly Dictionary<int, float[]> _scoredAhead = [];

    /// <summary>True when the job keeps a fold of its scores instead of the score matrix.</summary>
    public bool FoldsScores => _fold is not null;

    /// <summary>Score blocks held beside the fold: items scored ahead of the first unscored one.</summary>
    public int ItemsHeldAhead => _scoredAhead.Count;

    /// <summary>Bytes the job's scores take in memory: the score matrix and item maps, or the fold and the items held ahead.</summary>
    public long ScoreBytesHeld => (TargetScores.LongLength + ItemMaps.LongLength) * sizeof(float)
                                  + (_fold?.HeldBytes ?? 0) + _scoredAhead.Values.Sum(block => (long)block.Length * sizeof(float));

    /// <summary>The maps of a job that folds its scores, every item folded; null for other jobs (they assemble the score matrix).</summary>
    public MethodOutput? FoldedMaps() => _fold?.Finish(Targets);

    /// <summary>Index of the first work item not yet scored; only moves forward.</summary>
    private int _firstMissing;

    public bool IsFinished => Phase is JobPhase.Done or JobPhase.Failed or JobPhase.Cancelled;
    public bool AllItemsScored => Phase == JobPhase.Running && CompletedPrefix() >= PerturbationsUsed
                                  && (_adaptive is null || _steps.Count == _adaptive.Steps);

    /// <summary>
    /// Adaptive methods (<see cref="IAdaptivePlan"/>, e.g. coarse-to-fine occlusion): the job's perturbations are the
    /// selected perturbations of each decided step, in step order, each step starting at a work-item boundary (so the
    /// items of a step are decided with it, and an item never spans two steps). <see cref="PerturbationCount"/> grows
    /// with each step; the method's plan keeps its own numbering.
    /// </summary>
    public bool IsAdaptive => _adaptive is not null;

    /// <summary>Adaptive methods: the plan's perturbations selected so far, and all of the plan's perturbations.</summary>
    public long PlanSelected => _steps.Sum(step => (long)step.Length);
    public long PlanPerturbations => _adaptive?.PlannedPerturbations ?? PerturbationCount;

    private IAdaptivePlan? _adaptive;
    private readonly List<long[]> _steps = [];      // each decided step's plan indices, ascending
    private readonly List<long> _stepStart = [];    // the job perturbation index where each step begins
    private IAdaptivePlanner? _planner;              // a memo of DecidePlanExtension, not state: rebuilt from the steps
    private int _plannerRecorded;

    /// <summary>How many perturbations, counted from index 0, are scored without a gap.</summary>
    public long CompletedPrefix() => Math.Min(PerturbationCount, (long)_firstMissing * WorkItemSize);

    /// <summary>
    /// Sequential sampling: once the scored prefix says enough perturbations are in, the event that stops the job there.
    /// Checked only when the prefix reached a new work item, so a long job does not refit on every block.
    /// </summary>
    public IReadOnlyList<IJobEvent> DecideStop()
    {
        if (Phase != JobPhase.Running || PerturbationsUsed < PerturbationCount || _fold is not null) return [];
        var prefix = CompletedPrefix();
        if (prefix <= _stopCheckedUpTo) return [];
        _stopCheckedUpTo = prefix;
        var stop = _method!.StopAfter(TargetScores.AsSpan(0, (int)(prefix * Targets.Length)), prefix, Targets);
        return stop is { } used && used < PerturbationCount ? [new SamplingStopped { SamplesUsed = used }] : [];
    }

    /// <summary>
    /// Adaptive methods: once every decided step is scored, the event that decides the next step's perturbations (the
    /// first step as soon as the job runs). Decided from completed scores only, by the same planner the in-process
    /// algorithm uses, so replaying the event reproduces the job.
    /// </summary>
    public IReadOnlyList<IJobEvent> DecidePlanExtension()
    {
        if (_adaptive is null || Phase != JobPhase.Running) return [];
        var step = _steps.Count;
        if (step >= _adaptive.Steps || CompletedPrefix() < PerturbationCount) return [];
        var needed = Planner(step).Select(step);
        var refined = new PlanExtended { Step = step };
        foreach (var (first, count) in Runs(needed))
        {
            refined.Runs.Add(first);
            refined.Runs.Add(count);
        }
        return [refined];
    }

    /// <summary>Adaptive methods: the runs that map job perturbation indices to the plan's, for the workers.</summary>
    public IEnumerable<IndexRun> PerturbationRuns()
    {
        for (var s = 0; s < _steps.Count; s++)
        {
            var at = _stepStart[s];
            foreach (var (first, count) in Runs(_steps[s]))
            {
                yield return new IndexRun { First = at, MethodFirst = first, Count = count };
                at += count;
            }
        }
    }

    /// <summary>Decided steps, for the workers' copy of the spec: it changes with each.</summary>
    public int StepsDecided => _steps.Count;

    /// <summary>
    /// The score matrix the method's assembler takes: the scored perturbations, or for adaptive methods the plan's
    /// perturbations, evaluated or filled in by the planner.
    /// </summary>
    public ReadOnlyMemory<float> ScoresForMaps()
    {
        if (_fold is not null) throw new InvalidOperationException($"job {JobId} folds its scores: its maps are FoldedMaps()");
        return _adaptive is null
            ? TargetScores.AsMemory(0, (int)(PerturbationsUsed * Targets.Length))
            : Planner(_steps.Count).PlanScores();
    }

    /// <summary>The planner with the first <paramref name="recorded"/> steps' scores recorded.</summary>
    private IAdaptivePlanner Planner(int recorded)
    {
        if (_planner is null)
        {
            _planner = _adaptive!.Start(BaselineTargetScores());
            _plannerRecorded = 0;
        }
        for (; _plannerRecorded < recorded; _plannerRecorded++)
        {
            var step = _plannerRecorded;
            var needed = _planner.Select(step); // again: it is deterministic, and asking twice changes nothing
            if (!needed.AsSpan().SequenceEqual(_steps[step]))
                throw new InvalidOperationException($"adaptive step {step} selects other perturbations than its persisted event");
            _planner.Record(step, needed, TargetScores.AsSpan((int)(_stepStart[step] * Targets.Length), needed.Length * Targets.Length));
        }
        return _planner;
    }

    private static IEnumerable<(long First, long Count)> Runs(long[] ascending)
    {
        for (var i = 0; i < ascending.Length;)
        {
            var j = i + 1;
            while (j < ascending.Length && ascending[j] == ascending[j - 1] + 1) j++;
            yield return (ascending[i], j - i);
            i = j;
        }
    }

    /// <summary>Perturbations in the work item that starts at <paramref name="first"/>: up to the end of its step.</summary>
    private int ItemCountAt(long first)
    {
        var end = PerturbationCount;
        for (var s = _stepStart.Count - 1; s >= 0; s--)
        {
            if (_stepStart[s] > first) continue;
            end = _stepStart[s] + _steps[s].Length;
            break;
        }
        return (int)Math.Min(WorkItemSize, end - first);
    }

    /// <summary>Work items that hold the perturbations used (all of them unless sampling stopped early).</summary>
    private int UsedItemCount => (int)((PerturbationsUsed + WorkItemSize - 1) / Math.Max(1, WorkItemSize));

    /// <summary>Work items of the plan decided so far (the perturbations used) not scored yet.</summary>
    public int ItemsUnscored => Phase == JobPhase.Running ? UsedItemCount - UsedItemsDone() : 0;

    private int UsedItemsDone() =>
        UsedItemCount == WorkItemCount ? WorkItemsDone : _done.AsSpan(0, UsedItemCount).Count(true);

    private long _stopCheckedUpTo; // a memo of DecideStop, not state: recomputing gives the same answer

    /// <summary>Derived from the spec once; it memoises what it computed from earlier samples.</summary>
    private IExplanationMethod? _method;

    /// <param name="itemsPerShortJob">Split a short job into this many items (<see cref="ShortJobItemSize"/>); 0: items of
    /// <paramref name="workItemSize"/> whatever the job's length.</param>
    public IReadOnlyList<IJobEvent> Decide(StartJob command, int workItemSize, int evalBatch = 0, long nowUnixMs = 0,
        int itemsPerShortJob = 0)
    {
        if (Phase != JobPhase.New) return []; // a retried submit of the same job id is a no-op
        var (size, batch) = PlanAccepted(command.Spec, workItemSize, evalBatch, itemsPerShortJob);
        var spec = command.Spec.Clone();
        spec.EvalBatch = batch; // persisted with the job: every worker, now or after a restart, evaluates in this batch
        var accepted = new JobAccepted { Spec = spec, SubmittedUnixMs = command.SubmittedUnixMs, WorkItemSize = size };
        if (command.Reuse is not { } reuse) return [accepted];
        // Answered at once from the finished job's result: its maps (shared by hash) and a summary of this job's own.
        var finished = Math.Max(nowUnixMs, command.SubmittedUnixMs);
        return
        [
            accepted,
            new JobReused
            {
                SourceJobId = reuse.SourceJobId, Baseline = { reuse.Baseline }, Targets = { reuse.Targets }, FinishedUnixMs = finished,
                Outcome = new JobOutcome
                {
                    Maps = { reuse.Outcome.Maps },
                    SummaryJson = JobSummary.Reused(JobId, command.Spec, command.SubmittedUnixMs, finished, reuse),
                },
            },
        ];
    }

    /// <summary>
    /// A job's work item size and evaluation batch. The batch is the spec's own if it has one, else
    /// <paramref name="evalBatch"/> (the configured batch, or the best batch its baseline's worker reported), else 0:
    /// undecided until the baseline is scored (a job whose baseline's worker reported none, from before workers
    /// reported one, runs on each worker at its own largest batch, --max-batch). Items hold a
    /// whole number of batches, at least <paramref name="workItemSize"/> evaluations, so a worker's written-ahead inputs
    /// keep its device busy; a method's item cap bounds both. Methods that fold items into maps (the gradient methods)
    /// run rows of (evaluation, target): their batch counts rows, is not capped, and their items keep the usual size.
    /// </summary>
    public static (int ItemSize, int Batch) PlanItems(JobSpec spec, int workItemSize, int evalBatch) =>
        PlanItems(MethodCatalog.For(spec), spec, workItemSize, evalBatch);

    /// <summary>The plan a job is accepted with: <see cref="PlanItems(JobSpec, int, int)"/> at its short-job item size.</summary>
    public static (int ItemSize, int Batch) PlanAccepted(JobSpec spec, int workItemSize, int evalBatch, int itemsPerShortJob)
    {
        var method = MethodCatalog.For(spec);
        return PlanItems(method, spec, ShortJobItemSize(method, workItemSize, itemsPerShortJob), evalBatch);
    }

    private static (int ItemSize, int Batch) PlanItems(IExplanationMethod method, JobSpec spec, int workItemSize, int evalBatch)
    {
        var cap = method.MaxItemSize ?? int.MaxValue;
        var batch = spec.EvalBatch > 0 ? spec.EvalBatch : evalBatch;
        if (batch <= 0 || method.MapLength > 0) return (Math.Min(workItemSize, cap), Math.Max(0, batch));
        batch = Math.Min(batch, cap);
        var batches = Math.Max(1, (Math.Max(1, workItemSize) + batch - 1) / batch);
        var size = (int)Math.Min((long)batch * batches, cap / batch * batch);
        return (size, batch);
    }

    /// <summary>The fewest evaluations a short job's item is shrunk to.</summary>
    public const int SmallestShortJobItem = 8;

    /// <summary>
    /// The item size for a job of few perturbations: at most <paramref name="workItemSize"/>, small enough that the job
    /// has <paramref name="itemsPerShortJob"/> items (<see cref="Hosting.CoordinatorOptions.ItemsPerShortJob"/>), but not under
    /// <see cref="SmallestShortJobItem"/> evaluations: each item costs a lease, a result message and a journal event.
    /// Adaptive methods, whose perturbations are chosen step by step, and map-folding methods keep the usual size. The
    /// batches are the same whatever the item size (items hold whole batches from index 0), and so are the scores.
    /// </summary>
    private static int ShortJobItemSize(IExplanationMethod method, int workItemSize, int itemsPerShortJob)
    {
        if (itemsPerShortJob <= 0 || workItemSize <= SmallestShortJobItem) return workItemSize;
        if (method.AdaptivePlan is not null || method.MapLength > 0) return workItemSize;
        var forEnoughItems = (method.PerturbationCount + itemsPerShortJob - 1) / itemsPerShortJob;
        return (int)Math.Min(workItemSize, Math.Max(SmallestShortJobItem, forEnoughItems));
    }

    /// <summary>
    /// A job accepted without a batch (none configured) is planned when its baseline is scored, before any of its items
    /// is offered, from what the baseline's worker reported (it has just loaded the model, and measured it if it sweeps):
    /// its best batch, configured or measured, however it compares with the item size (a GPU's is in the hundreds);
    /// else its largest batch, within the item size it was accepted with (32 by default), which keeps items as
    /// configured (a gradient method's batch counts rows, not evaluations: its largest is taken whole). A worker that
    /// reported neither (one from before workers reported) leaves the batch undecided: Batch 0.
    /// </summary>
    /// <param name="acceptedItemSize">The item size the job was accepted with (<see cref="PlanAccepted"/> without a batch).</param>
    public static (int ItemSize, int Batch) PlanFromWorker(JobSpec spec, int acceptedItemSize, int bestBatch, int largestBatch)
    {
        if (spec.EvalBatch > 0) return (acceptedItemSize, 0);
        if (bestBatch > 0) return PlanItems(spec, acceptedItemSize, bestBatch);
        if (largestBatch <= 0) return (acceptedItemSize, 0);
        var foldsMaps = MethodCatalog.For(spec).MapLength > 0;
        return PlanItems(spec, acceptedItemSize, foldsMaps ? largestBatch : Math.Min(largestBatch, Math.Max(1, acceptedItemSize)));
    }

    public IReadOnlyList<IJobEvent> Decide(ScoreWorkItem command, long nowUnixMs)
    {
        if (IsFinished) return [];
        var item = command.Item;
        if (!string.IsNullOrEmpty(command.Error))
            return [new JobFailed { Reason = command.Error, FinishedUnixMs = nowUnixMs }];

        if (item.Baseline)
        {
            if (Phase != JobPhase.Queued) return [];
            if (command.Scores.Count != Spec!.ClassCount)
                return [Failed($"the model returned {command.Scores.Count} scores, expected {Spec.ClassCount}", nowUnixMs)];
            // Every perturbation is compared with these scores: a NaN or infinite one would spend the whole job to
            // produce maps of NaN (and then fail writing JSON), so the job fails now, with the reason.
            if (FirstNonFinite(command.Scores) is { } bad)
                return [Failed($"the model's output for the unperturbed image is not finite ({command.Scores[bad]} at index {bad}); " +
                               "no explanation can be computed from it: check the model's weights and the preprocessing", nowUnixMs)];
            var targets = ResolveTargets(Spec, command.Scores);
            var scored = new BaselineScored { Scores = { command.Scores }, Targets = { targets }, FirstItemUnixMs = nowUnixMs };
            var (size, batch) = PlanFromWorker(Spec, WorkItemSize, command.BestBatch, command.LargestBatch);
            if (batch > 0) (scored.EvalBatch, scored.WorkItemSize) = (batch, size);
            return [scored];
        }

        if (Phase != JobPhase.Running || !IsWorkItem(item) || _done[item.First / WorkItemSize]) return [];
        var expected = item.Count * Targets.Length + MapsPerItem * MapLength;
        if (command.Scores.Count != expected)
            return [Failed($"a worker returned {command.Scores.Count} {(MapLength > 0 ? "values" : "scores")} for {item.Count} perturbations × {Targets.Length} targets" +
                           (MapLength > 0 ? $" and {MapsPerItem} maps of {MapLength}" : ""), nowUnixMs)];
        return [new ItemScored { First = item.First, Count = item.Count, Scores = { command.Scores }, Worker = command.Worker }];
    }

    private static int? FirstNonFinite(IReadOnlyList<float> scores)
    {
        for (var i = 0; i < scores.Count; i++)
            if (!float.IsFinite(scores[i])) return i;
        return null;
    }

    public IReadOnlyList<IJobEvent> Decide(CancelJob _, long nowUnixMs) =>
        IsFinished || Phase == JobPhase.New ? [] : [new JobCancelled { FinishedUnixMs = nowUnixMs }];

    /// <summary>A running job is cancelled on the way out, so its work is withdrawn like any cancelled job's.</summary>
    public IReadOnlyList<IJobEvent> Decide(DeleteJob _, long nowUnixMs) => Phase == JobPhase.New
        ? []
        : IsFinished
            ? [new JobDeleted { DeletedUnixMs = nowUnixMs }]
            : [new JobCancelled { FinishedUnixMs = nowUnixMs }, new JobDeleted { DeletedUnixMs = nowUnixMs }];

    public JobState Apply(IJobEvent @event)
    {
        switch (@event)
        {
            case JobAccepted accepted:
                Spec = accepted.Spec;
                SubmittedUnixMs = accepted.SubmittedUnixMs;
                WorkItemSize = accepted.WorkItemSize;
                _method = MethodCatalog.For(accepted.Spec);
                _adaptive = _method.AdaptivePlan;
                PerturbationCount = _adaptive is null ? _method.PerturbationCount : 0; // grows step by step
                PerturbationsUsed = PerturbationCount;
                MapLength = _method.MapLength;
                WorkItemCount = (int)((PerturbationCount + WorkItemSize - 1) / WorkItemSize);
                _done = new bool[WorkItemCount];
                Phase = JobPhase.Queued;
                break;
            case BaselineScored baseline:
                if (baseline.EvalBatch > 0) Replan(baseline.EvalBatch, baseline.WorkItemSize);
                Baseline = [.. baseline.Scores];
                Targets = [.. baseline.Targets];
                StartScores();
                FirstItemUnixMs = baseline.FirstItemUnixMs;
                Evaluations += 1;
                Phase = JobPhase.Running;
                break;
            case ItemScored scored:
                var index = (int)(scored.First / WorkItemSize);
                if (_done[index]) break;
                _done[index] = true;
                WorkItemsDone++;
                while (_firstMissing < WorkItemCount && _done[_firstMissing]) _firstMissing++;
                Evaluations += scored.Count;
                // The block is the item's scores (count × targets), then, for map-folding methods, its maps (MapsPerItem × MapLength).
                var scoreCount = scored.Count * Targets.Length;
                if (_fold is not null)
                {
                    _scoredAhead[index] = [.. scored.Scores];
                    FoldScoredPrefix();
                }
                else
                {
                    for (var i = 0; i < scoreCount; i++) TargetScores[scored.First * Targets.Length + i] = scored.Scores[i];
                    var mapOffset = (long)index * MapsPerItem * MapLength;
                    for (var i = scoreCount; i < scored.Scores.Count; i++) ItemMaps[mapOffset + i - scoreCount] = scored.Scores[i];
                }
                if (scored.Worker.Length > 0) Workers.Add(scored.Worker);
                break;
            case SamplingStopped stopped:
                PerturbationsUsed = stopped.SamplesUsed;
                break;
            case OcclusionRefined refined: // the same decision, as journals before PlanExtended wrote it
                ExtendPlan(refined.Step, refined.Runs);
                break;
            case PlanExtended extended:
                ExtendPlan(extended.Step, extended.Runs);
                break;
            case JobCompleted completed:
                ReleaseFold(); // the maps are in the artifact store
                Outcome = completed.Outcome;
                FinishedUnixMs = completed.FinishedUnixMs;
                Phase = JobPhase.Done;
                break;
            case JobFailed failed:
                Error = failed.Reason;
                FinishedUnixMs = failed.FinishedUnixMs;
                Phase = JobPhase.Failed;
                break;
            case JobCancelled cancelled:
                FinishedUnixMs = cancelled.FinishedUnixMs;
                Phase = JobPhase.Cancelled;
                break;
            case JobReused reused:
                Baseline = [.. reused.Baseline];
                Targets = [.. reused.Targets];
                Outcome = reused.Outcome;
                FinishedUnixMs = reused.FinishedUnixMs;
                ReusedFrom = reused.SourceJobId;
                // Every work item is answered (none evaluated): progress reads complete, with no evaluations.
                Array.Fill(_done, true);
                WorkItemsDone = WorkItemCount;
                _firstMissing = WorkItemCount;
                Phase = JobPhase.Done;
                break;
            case JobDeleted:
                // As if never submitted: every command answers "no such job" from here on.
                Phase = JobPhase.New;
                Spec = null;
                Outcome = null;
                ReusedFrom = null;
                TargetScores = [];
                ItemMaps = [];
                ReleaseFold();
                break;
        }
        return this;
    }

    /// <summary>
    /// Where a running job keeps its scores, empty: a fold (the method's, if it has one) or the score matrix and item maps.
    /// The one place that decides it, for a baselined job and for one restored from a snapshot alike.
    /// </summary>
    private void StartScores()
    {
        _fold = _adaptive is null ? _method!.CreateFold(Targets.Length) : null;
        _foldedItems = 0;
        TargetScores = _fold is null ? new float[PerturbationCount * Targets.Length] : [];
        ItemMaps = _fold is null ? new float[(long)WorkItemCount * MapsPerItem * MapLength] : [];
    }

    /// <summary>Folds the items scored without a gap since the last fold, in item order, and forgets their scores.</summary>
    private void FoldScoredPrefix()
    {
        for (; _foldedItems < _firstMissing; _foldedItems++)
        {
            if (!_scoredAhead.Remove(_foldedItems, out var block))
                throw new InvalidOperationException($"job {JobId}: work item {_foldedItems} is scored but its scores are not held");
            var scoreCount = block.Length - MapsPerItem * MapLength;
            _fold!.Add(block.AsSpan(0, scoreCount), block.AsSpan(scoreCount));
        }
    }

    private void ReleaseFold()
    {
        _fold = null;
        _scoredAhead.Clear();
    }

    /// <summary>The job's batch and item size decided with its baseline; no item was offered or scored before.</summary>
    private void Replan(int evalBatch, int workItemSize)
    {
        var spec = Spec!.Clone();
        spec.EvalBatch = evalBatch;
        Spec = spec;
        WorkItemSize = workItemSize;
        WorkItemCount = (int)((PerturbationCount + WorkItemSize - 1) / WorkItemSize);
        _done = new bool[WorkItemCount];
    }

    /// <summary>Adaptive methods: step <paramref name="step"/>'s selection, as (first, count) runs of plan indices.</summary>
    private void ExtendPlan(int step, IReadOnlyList<long> runs)
    {
        if (_adaptive is null || step != _steps.Count) return;
        var selection = new List<long>();
        for (var r = 0; r + 1 < runs.Count; r += 2)
            for (var w = 0L; w < runs[r + 1]; w++) selection.Add(runs[r] + w);
        var start = (PerturbationCount + WorkItemSize - 1) / WorkItemSize * WorkItemSize;
        _steps.Add([.. selection]);
        _stepStart.Add(start);
        PerturbationCount = PerturbationsUsed = start + selection.Count;
        WorkItemCount = (int)((PerturbationCount + WorkItemSize - 1) / WorkItemSize);
        Array.Resize(ref _done, WorkItemCount);
        TargetScores = TargetScores.Length >= PerturbationCount * Targets.Length
            ? TargetScores : [.. TargetScores, .. new float[PerturbationCount * Targets.Length - TargetScores.Length]];
        while (_firstMissing < WorkItemCount && _done[_firstMissing]) _firstMissing++;
    }

    /// <summary>
    /// The state as a snapshot: with it, recovery replays only the events after it. A finished job's snapshot leaves
    /// out the score matrix and item maps: its maps are in the artifact store, and nothing reads the scores again. A job
    /// that folds its scores saves the fold and the blocks of the items scored ahead of it.
    /// </summary>
    public JobSnapshot ToSnapshot()
    {
        var snapshot = new JobSnapshot
        {
            Phase = (int)Phase, Spec = Spec, SubmittedUnixMs = SubmittedUnixMs, FirstItemUnixMs = FirstItemUnixMs,
            FinishedUnixMs = FinishedUnixMs, WorkItemSize = WorkItemSize, PerturbationCount = PerturbationCount,
            PerturbationsUsed = PerturbationsUsed, Targets = { Targets }, Baseline = { Baseline },
            ItemsDone = Google.Protobuf.ByteString.CopyFrom(PackBits(_done)), Evaluations = Evaluations, Workers = { Workers },
            Outcome = Outcome, Error = Error ?? "", ReusedFrom = ReusedFrom ?? "",
        };
        if (Phase == JobPhase.Running)
        {
            // Only the scored items' blocks, in item order: a snapshot grows with the work done, not the work planned.
            // Sized once and copied block by block: a 10⁶-item job's buffer is 128 MB, and growing the fields by doubling
            // (or a copy per block) left several of them behind in the large-object heap at every snapshot.
            // A folded job's blocks are those ahead of its fold; the fold holds the rest.
            var mapBlock = MapsPerItem * MapLength;
            long scoresHeld = 0, mapsHeld = 0;
            for (var k = _foldedItems; k < WorkItemCount; k++)
            {
                if (!_done[k]) continue;
                scoresHeld += ItemCountAt((long)k * WorkItemSize) * Targets.Length;
                mapsHeld += mapBlock;
            }
            snapshot.TargetScores.Capacity = checked((int)scoresHeld);
            snapshot.ItemMaps.Capacity = checked((int)mapsHeld);
            for (var k = _foldedItems; k < WorkItemCount; k++)
            {
                if (!_done[k]) continue;
                var first = (long)k * WorkItemSize;
                var scoreCount = ItemCountAt(first) * Targets.Length;
                if (_fold is not null)
                {
                    var block = _scoredAhead[k];
                    snapshot.TargetScores.AddRange(new ArraySegment<float>(block, 0, scoreCount));
                    snapshot.ItemMaps.AddRange(new ArraySegment<float>(block, scoreCount, mapBlock));
                    continue;
                }
                snapshot.TargetScores.AddRange(new ArraySegment<float>(TargetScores, (int)(first * Targets.Length), scoreCount));
                if (mapBlock > 0) snapshot.ItemMaps.AddRange(new ArraySegment<float>(ItemMaps, k * mapBlock, mapBlock));
            }
            if (_fold is not null)
            {
                snapshot.FoldedItems = _foldedItems;
                snapshot.FoldState = Google.Protobuf.ByteString.CopyFrom(_fold.Save());
            }
        }
        for (var step = 0; step < _steps.Count; step++)
        {
            var extended = new PlanExtended { Step = step };
            foreach (var (first, count) in Runs(_steps[step]))
            {
                extended.Runs.Add(first);
                extended.Runs.Add(count);
            }
            snapshot.PlanSteps.Add(extended);
        }
        return snapshot;
    }

    /// <summary>The state a snapshot was taken of (see <see cref="ToSnapshot"/>).</summary>
    public static JobState FromSnapshot(string jobId, JobSnapshot snapshot)
    {
        var state = new JobState(jobId);
        state.Apply(new JobAccepted { Spec = snapshot.Spec, SubmittedUnixMs = snapshot.SubmittedUnixMs, WorkItemSize = snapshot.WorkItemSize });
        if (snapshot.Targets.Count > 0 || (JobPhase)snapshot.Phase != JobPhase.Queued)
        {
            state.Targets = [.. snapshot.Targets];
            state.Baseline = [.. snapshot.Baseline];
        }
        foreach (var step in snapshot.PlanSteps) state.ExtendPlan(step.Step, step.Runs);
        state.Phase = (JobPhase)snapshot.Phase;
        state.FirstItemUnixMs = snapshot.FirstItemUnixMs;
        state.FinishedUnixMs = snapshot.FinishedUnixMs;
        state.PerturbationCount = snapshot.PerturbationCount;
        state.PerturbationsUsed = snapshot.PerturbationsUsed;
        state.WorkItemCount = (int)((state.PerturbationCount + state.WorkItemSize - 1) / state.WorkItemSize);
        state._done = UnpackBits(snapshot.ItemsDone.Span, state.WorkItemCount);
        state.WorkItemsDone = state._done.Count(d => d);
        state._firstMissing = 0;
        while (state._firstMissing < state.WorkItemCount && state._done[state._firstMissing]) state._firstMissing++;
        state.Evaluations = snapshot.Evaluations;
        foreach (var worker in snapshot.Workers) state.Workers.Add(worker);
        state.Outcome = snapshot.Outcome;
        state.Error = snapshot.Error.Length > 0 ? snapshot.Error : null;
        state.ReusedFrom = snapshot.ReusedFrom.Length > 0 ? snapshot.ReusedFrom : null;
        if (state.Phase == JobPhase.Running) state.RestoreScores(snapshot);
        return state;
    }

    /// <summary>
    /// A running job's scores from its snapshot: the score matrix and item maps, or the fold and the items ahead of it. A
    /// snapshot taken before folding existed holds every scored item's scores and maps (FoldedItems 0): they are folded here.
    /// </summary>
    private void RestoreScores(JobSnapshot snapshot)
    {
        var targets = Targets.Length;
        var mapBlock = MapsPerItem * MapLength;
        StartScores();
        if (_fold is not null && snapshot.FoldedItems > 0)
        {
            _fold.Load(snapshot.FoldState.Span);
            _foldedItems = snapshot.FoldedItems;
            if (_foldedItems > _firstMissing || _fold.Folded != Math.Min(PerturbationCount, (long)_foldedItems * WorkItemSize))
                throw new InvalidOperationException($"job {JobId}: the snapshot's fold of {_fold.Folded} perturbations does not match its {_foldedItems} folded items");
        }
        int scoresAt = 0, mapsAt = 0;
        for (var k = _foldedItems; k < WorkItemCount; k++)
        {
            if (!_done[k]) continue;
            var first = (long)k * WorkItemSize;
            var length = ItemCountAt(first) * targets;
            if (_fold is not null)
            {
                var block = new float[length + mapBlock];
                for (var i = 0; i < length; i++) block[i] = snapshot.TargetScores[scoresAt++];
                for (var i = 0; i < mapBlock; i++) block[length + i] = snapshot.ItemMaps[mapsAt++];
                _scoredAhead[k] = block;
                continue;
            }
            for (var i = 0; i < length; i++) TargetScores[first * targets + i] = snapshot.TargetScores[scoresAt++];
            for (var i = 0; i < mapBlock; i++) ItemMaps[(long)k * mapBlock + i] = snapshot.ItemMaps[mapsAt++];
        }
        if (_fold is not null) FoldScoredPrefix();
    }

    private static byte[] PackBits(bool[] bits)
    {
        var bytes = new byte[(bits.Length + 7) / 8];
        for (var i = 0; i < bits.Length; i++)
            if (bits[i]) bytes[i / 8] |= (byte)(1 << (i % 8));
        return bytes;
    }

    private static bool[] UnpackBits(ReadOnlySpan<byte> bytes, int count)
    {
        var bits = new bool[count];
        for (var i = 0; i < count && i / 8 < bytes.Length; i++) bits[i] = (bytes[i / 8] & (1 << (i % 8))) != 0;
        return bits;
    }

    /// <summary>The work items not yet scored, in index order: the baseline while queued, perturbation ranges while running.</summary>
    public IEnumerable<WorkItem> PendingItems()
    {
        if (Phase == JobPhase.Queued)
        {
            yield return new WorkItem { Baseline = true };
            yield break;
        }
        if (Phase != JobPhase.Running) yield break;
        for (var k = _firstMissing; k < WorkItemCount; k++)
        {
            var first = (long)k * WorkItemSize;
            if (first >= PerturbationsUsed) yield break;
            if (_done[k]) continue;
            yield return new WorkItem { First = first, Count = ItemCountAt(first) };
        }
    }

    /// <summary>The targets' scores for the unperturbed image, in the score kind the job asked for.</summary>
    public float[] BaselineTargetScores() => TargetScoresOf(Spec!, Baseline, Targets);

    /// <summary>The targets' scores in a baseline (the model's raw output), in the score kind the spec asks for.</summary>
    /// <returns>NaN for a target the baseline does not hold: a dreamt channel, or a value of a target tensor beyond the output's.</returns>
    public static float[] TargetScoresOf(JobSpec spec, float[] baseline, int[] targets)
    {
        if (DeepDreamMethod.DreamsChannels(spec)) return [.. targets.Select(_ => float.NaN)];
        var scores = spec.AppliesSoftmax() ? Scores.Softmax(baseline) : baseline;
        return [.. targets.Select(t => TargetRegions.IsRegion(t) || t < scores.Length ? spec.Score(t, scores, spec.OutputShape) : float.NaN)];
    }

    /// <summary>The phase as the API names it.</summary>
    public ApiJobState ApiState => Phase switch
    {
        JobPhase.Queued => ApiJobState.Queued,
        JobPhase.Running => ApiJobState.Running,
        JobPhase.Done => ApiJobState.Done,
        JobPhase.Failed => ApiJobState.Failed,
        JobPhase.Cancelled => ApiJobState.Cancelled,
        _ => ApiJobState.Unspecified,
    };

    public JobProgress ToProgress() => new()
    {
        JobId = JobId,
        State = ApiState,
        ItemsDone = ItemsDoneForProgress,
        ItemsTotal = ItemsTotalForProgress,
        Evaluations = Evaluations,
        EvaluationsTotal = EvaluationsTotal,
        // A finished job's rate is its average over the run; a running job's is measured by the entity (ProgressRate).
        EvaluationsPerSecond = Phase == JobPhase.Done && FinishedUnixMs > FirstItemUnixMs && FirstItemUnixMs > 0
            ? (Evaluations - 1) * 1000.0 / (FinishedUnixMs - FirstItemUnixMs) : 0,
        Error = Error ?? "",
        Name = Spec?.Name ?? "",
        SubmittedUnixMs = SubmittedUnixMs,
        FinishedUnixMs = FinishedUnixMs,
        Method = Spec is null ? "" : MethodCatalog.NameOf(Spec),
        ModelSha256 = Spec?.ModelSha256 ?? "",
        ImageSha256 = Spec?.ImageSha256 ?? "",
        Owner = Spec?.Owner ?? "",
        Team = Spec?.Team ?? "",
        Priority = Spec?.Priority ?? 0,
        ParentJobId = Spec?.ParentJobId ?? "",
    };

    /// <summary>The job's row in the job index; <paramref name="version"/> is the entity's event sequence number.</summary>
    public JobIndexRow ToIndexRow(long version) => new()
    {
        JobId = JobId,
        Phase = Phase switch
        {
            JobPhase.Queued => IndexedJobPhase.Queued,
            JobPhase.Running => IndexedJobPhase.Running,
            JobPhase.Done => IndexedJobPhase.Done,
            JobPhase.Failed => IndexedJobPhase.Failed,
            JobPhase.Cancelled => IndexedJobPhase.Cancelled,
            _ => IndexedJobPhase.Unspecified,
        },
        Name = Spec?.Name ?? "",
        Owner = Spec?.Owner ?? "",
        Team = Spec?.Team ?? "",
        ModelSha256 = Spec?.ModelSha256 ?? "",
        ImageSha256 = Spec?.ImageSha256 ?? "",
        Method = Spec is null ? "" : MethodCatalog.NameOf(Spec),
        SubmittedUnixMs = SubmittedUnixMs,
        FinishedUnixMs = FinishedUnixMs,
        ItemsDone = ItemsDoneForProgress,
        ItemsTotal = ItemsTotalForProgress,
        Evaluations = Evaluations,
        EvaluationsTotal = EvaluationsTotal,
        Error = Error ?? "",
        Priority = Spec?.Priority ?? 0,
        Version = version,
        ParentJobId = Spec?.ParentJobId ?? "",
    };

    // The baseline counts as one work item and one evaluation.
    private long ItemsDoneForProgress => UsedItemsDone() + (Phase is JobPhase.New or JobPhase.Queued ? 0 : 1);
    private long ItemsTotalForProgress => UsedItemCount + 1 + UndecidedItemsAtMost();

    /// <summary>Evaluations the job will run: the baseline and every perturbation used (at most, while an adaptive plan decides).</summary>
    private long EvaluationsTotal => ReusedFrom is not null
        ? 0 // a reused job evaluates nothing
        : 1 + PerturbationsUsed + (_adaptive is null ? 0 : _adaptive.PlannedPerturbations - PlanSelected);

    /// <summary>
    /// Adaptive methods: work items the steps not yet decided may need, at most (their perturbations not yet selected), so the
    /// total shrinks as refinement leaves windows out, and reaches the true count with the last step.
    /// </summary>
    private int UndecidedItemsAtMost()
    {
        if (_adaptive is null || _steps.Count >= _adaptive.Steps || WorkItemSize == 0 || ReusedFrom is not null) return 0;
        var left = _adaptive.PlannedPerturbations - PlanSelected;
        return (int)((left + WorkItemSize - 1) / WorkItemSize) + (_adaptive.Steps - _steps.Count - 1);
    }

    private bool IsWorkItem(WorkItem item) =>
        item.First >= 0 && item.First % WorkItemSize == 0 && item.First / WorkItemSize < WorkItemCount
        && item.Count == ItemCountAt(item.First);

    private static int[] ResolveTargets(JobSpec spec, IReadOnlyList<float> baseline)
    {
        if (spec.Targets.Regions.Count > 0) return [.. Enumerable.Range(0, spec.Targets.Regions.Count).Select(TargetRegions.RegionTarget)];
        if (spec.Targets.Classes.Count > 0) return [.. spec.Targets.Classes];
        return Scores.TopK([.. baseline], Math.Max(1, spec.Targets.TopK));
    }

    private static JobFailed Failed(string reason, long nowUnixMs) => new() { Reason = reason, FinishedUnixMs = nowUnixMs };
}
