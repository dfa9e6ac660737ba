using Google.Protobuf;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Jobs;
using ApiJobState = Lantern.Contracts.Api.JobState;
using CancelJobCommand = Lantern.Contracts.Messages.CancelJob;
using JobState = Lantern.Coordinator.Jobs.JobState;

namespace Lantern.Cluster.Tests.Jobs;

/// <summary>The job entity's pure state: commands decided into events, events applied, nothing else.</summary>
public sealed class JobStateTests
{
    private const string JobId = "job1";
    private const long Now = 1_700_000_000_000;

    // A 4x4 image under a 2x2 window with stride 1: 3x3 = 9 perturbations, in work items of 4, 4 and 1.
    private const int WorkItemSize = 4;
    private const int ClassCount = 4;

    private static JobSpec Spec(Targets targets) => new()
    {
        ModelSha256 = new string('a', 64),
        ImageSha256 = new string('b', 64),
        ImageWidth = 4,
        ImageHeight = 4,
        Targets = targets,
        ClassCount = ClassCount,
        Name = "spec",
        Occlusion = new OcclusionOptions
        {
            Windows = { new Window { Height = 2, Width = 2, StrideY = 1, StrideX = 1 } },
            Fill = new Fill { Kind = Fill.Types.Kind.Zero },
        },
    };

    private static StartJob Start(Targets? targets = null) =>
        new() { JobId = JobId, Spec = Spec(targets ?? new Targets { TopK = 2 }), SubmittedUnixMs = Now };

    private static JobState Accepted(Targets? targets = null)
    {
        var state = new JobState(JobId);
        return ApplyAll(state, state.Decide(Start(targets), WorkItemSize));
    }

    /// <summary>Accepted and baselined with two targets (top-2 of these scores: classes 1 and 3).</summary>
    private static JobState Running()
    {
        var state = Accepted();
        return ApplyAll(state, state.Decide(BaselineScores(0.1f, 0.9f, 0.3f, 0.5f), Now));
    }

    private static JobState ApplyAll(JobState state, IEnumerable<IJobEvent> events)
    {
        foreach (var e in events) state.Apply(e);
        return state;
    }

    private static ScoreWorkItem BaselineScores(params float[] scores) =>
        new() { JobId = JobId, Item = new WorkItem { Baseline = true }, Scores = { scores }, Worker = "w" };

    private static ScoreWorkItem Item(long first, int count, int targets = 2, string worker = "w") =>
        new()
        {
            JobId = JobId, Item = new WorkItem { First = first, Count = count },
            Scores = { Enumerable.Range(0, count * targets).Select(i => (float)(first * targets + i)) }, Worker = worker,
        };

    [Fact]
    public void Starting_a_new_job_accepts_it_with_its_spec_and_work_item_size()
    {
        var state = new JobState(JobId);
        var start = Start();

        var events = state.Decide(start, WorkItemSize);

        var accepted = Assert.IsType<JobAccepted>(Assert.Single(events));
        Assert.Equal(start.Spec, accepted.Spec); // no batch configured: the spec is kept as submitted
        Assert.Equal(Now, accepted.SubmittedUnixMs);
        Assert.Equal(WorkItemSize, accepted.WorkItemSize);
    }

    [Fact]
    public void Starting_an_accepted_job_again_decides_nothing()
    {
        var state = Accepted();

        Assert.Empty(state.Decide(Start(), WorkItemSize));
        Assert.Equal(JobPhase.Queued, state.Phase);
    }

    [Fact]
    public void An_accepted_job_is_queued_with_its_work_items_counted()
    {
        var state = Accepted();

        Assert.Equal(JobPhase.Queued, state.Phase);
        Assert.Equal(3, state.WorkItemCount);
        Assert.Equal(9, state.PerturbationCount);
    }

    [Fact]
    public void The_baseline_with_top_k_resolves_the_k_highest_classes_in_descending_order()
    {
        var state = Accepted(new Targets { TopK = 2 });

        var events = state.Decide(BaselineScores(0.1f, 0.9f, 0.3f, 0.5f), Now);

        var baseline = Assert.IsType<BaselineScored>(Assert.Single(events));
        Assert.Equal([1, 3], baseline.Targets);
        Assert.Equal([0.1f, 0.9f, 0.3f, 0.5f], baseline.Scores);
    }

    [Fact]
    public void The_baseline_keeps_explicit_classes_as_given_whatever_the_scores()
    {
        var state = Accepted(new Targets { Classes = { 2, 0 } });

        var events = state.Decide(BaselineScores(0.1f, 0.9f, 0.3f, 0.5f), Now);

        var baseline = Assert.IsType<BaselineScored>(Assert.Single(events));
        Assert.Equal([2, 0], baseline.Targets);
    }

    [Fact]
    public void A_baseline_with_the_wrong_number_of_classes_fails_the_job_saying_how_many_were_expected()
    {
        var state = Accepted();

        var events = state.Decide(BaselineScores(0.1f, 0.9f), Now);

        var failed = Assert.IsType<JobFailed>(Assert.Single(events));
        Assert.Contains("returned 2 scores, expected 4", failed.Reason);
    }

    [Fact]
    public void Applying_the_baseline_starts_the_job_running()
    {
        var state = Running();

        Assert.Equal(JobPhase.Running, state.Phase);
        Assert.Equal([1, 3], state.Targets);
        Assert.Equal(9 * 2, state.TargetScores.Length);
    }

    [Fact]
    public void A_scored_work_item_becomes_an_ItemScored_event_with_its_scores_and_worker()
    {
        var state = Running();

        var events = state.Decide(Item(4, 4, worker: "worker-a"), Now);

        var scored = Assert.IsType<ItemScored>(Assert.Single(events));
        Assert.Equal(4, scored.First);
        Assert.Equal(4, scored.Count);
        Assert.Equal(8, scored.Scores.Count);
        Assert.Equal("worker-a", scored.Worker);
    }

    [Fact]
    public void A_duplicate_score_for_an_item_already_scored_decides_nothing()
    {
        var state = Running();
        ApplyAll(state, state.Decide(Item(4, 4), Now));

        Assert.Empty(state.Decide(Item(4, 4, worker: "late"), Now));
        Assert.Equal(1, state.WorkItemsDone);
    }

    [Fact]
    public void Applying_the_same_ItemScored_twice_counts_it_once()
    {
        var state = Running();
        var scored = Assert.Single(state.Decide(Item(0, 4), Now));

        state.Apply(scored);
        state.Apply(scored);

        Assert.Equal(1, state.WorkItemsDone);
        Assert.Equal(1 + 4, state.Evaluations);
    }

    [Fact]
    public void A_block_with_the_wrong_number_of_scores_fails_the_job_with_a_clear_reason()
    {
        var state = Running();
        var command = Item(0, 4);
        command.Scores.RemoveAt(0); // 7 scores for 4 perturbations x 2 targets

        var events = state.Decide(command, Now);

        var failed = Assert.IsType<JobFailed>(Assert.Single(events));
        Assert.Contains("returned 7 scores for 4 perturbations", failed.Reason);
        Assert.Contains("2 targets", failed.Reason);
        Assert.Equal(Now, failed.FinishedUnixMs);
    }

    [Fact]
    public void A_work_item_that_is_not_one_of_the_plan_is_ignored()
    {
        var state = Running();

        Assert.Empty(state.Decide(Item(1, 4), Now));   // not on a work item boundary
        Assert.Empty(state.Decide(Item(8, 4), Now));   // the last item holds 1 perturbation, not 4
        Assert.Empty(state.Decide(Item(12, 4), Now));  // past the end
    }

    [Fact]
    public void A_worker_error_fails_the_job_with_that_error()
    {
        var state = Running();
        var command = new ScoreWorkItem { JobId = JobId, Item = new WorkItem { First = 0, Count = 4 }, Error = "CUDA out of memory" };

        var failed = Assert.IsType<JobFailed>(Assert.Single(state.Decide(command, Now)));

        Assert.Equal("CUDA out of memory", failed.Reason);
    }

    [Fact]
    public void A_queued_job_has_only_its_baseline_pending()
    {
        var state = Accepted();

        var pending = Assert.Single(state.PendingItems());

        Assert.True(pending.Baseline);
    }

    [Fact]
    public void Pending_items_are_exactly_the_unscored_work_items_in_index_order()
    {
        var state = Running();
        Assert.Equal(
            [new WorkItem { First = 0, Count = 4 }, new WorkItem { First = 4, Count = 4 }, new WorkItem { First = 8, Count = 1 }],
            state.PendingItems());

        ApplyAll(state, state.Decide(Item(4, 4), Now));

        Assert.Equal([new WorkItem { First = 0, Count = 4 }, new WorkItem { First = 8, Count = 1 }], state.PendingItems());
    }

    [Fact]
    public void Once_every_item_is_scored_nothing_is_pending_and_the_job_is_ready_to_assemble()
    {
        var state = Running();

        ApplyAll(state, state.Decide(Item(8, 1), Now));
        ApplyAll(state, state.Decide(Item(0, 4), Now));
        ApplyAll(state, state.Decide(Item(4, 4), Now));

        Assert.Empty(state.PendingItems());
        Assert.True(state.AllItemsScored);
        // Each block lands at its own rows, whatever the order it arrived in.
        Assert.Equal(Enumerable.Range(0, 18).Select(i => (float)i), state.TargetScores);
    }

    [Fact]
    public void Progress_counts_the_baseline_and_each_scored_item()
    {
        var state = Accepted();
        var queued = state.ToProgress();
        Assert.Equal((ApiJobState.Queued, 0L, 4L, 0L), (queued.State, queued.ItemsDone, queued.ItemsTotal, queued.Evaluations));

        ApplyAll(state, state.Decide(BaselineScores(0.1f, 0.9f, 0.3f, 0.5f), Now));
        var running = state.ToProgress();
        Assert.Equal((ApiJobState.Running, 1L, 4L, 1L), (running.State, running.ItemsDone, running.ItemsTotal, running.Evaluations));

        ApplyAll(state, state.Decide(Item(0, 4), Now));
        ApplyAll(state, state.Decide(Item(8, 1), Now));
        var later = state.ToProgress();
        Assert.Equal((ApiJobState.Running, 3L, 4L, 1L + 4 + 1), (later.State, later.ItemsDone, later.ItemsTotal, later.Evaluations));
        Assert.Equal(JobId, later.JobId);
        Assert.Equal("spec", later.Name);
        Assert.Equal(Now, later.SubmittedUnixMs);
    }

    [Fact]
    public void Cancelling_a_running_job_cancels_it()
    {
        var state = Running();

        var cancelled = Assert.IsType<JobCancelled>(Assert.Single(state.Decide(new CancelJobCommand { JobId = JobId }, Now)));
        state.Apply(cancelled);

        Assert.Equal(JobPhase.Cancelled, state.Phase);
        Assert.Empty(state.PendingItems());
        Assert.Equal(ApiJobState.Cancelled, state.ToProgress().State);
    }

    [Fact]
    public void Cancelling_a_job_that_is_done_decides_nothing()
    {
        var state = Running();
        state.Apply(new JobCompleted { Outcome = new JobOutcome(), FinishedUnixMs = Now });

        Assert.Empty(state.Decide(new CancelJobCommand { JobId = JobId }, Now + 1));
        Assert.Equal(JobPhase.Done, state.Phase);
    }

    [Fact]
    public void Cancelling_a_job_that_failed_or_was_cancelled_decides_nothing()
    {
        var failed = Running();
        failed.Apply(new JobFailed { Reason = "boom", FinishedUnixMs = Now });
        var cancelled = Running();
        cancelled.Apply(new JobCancelled { FinishedUnixMs = Now });

        Assert.Empty(failed.Decide(new CancelJobCommand { JobId = JobId }, Now + 1));
        Assert.Empty(cancelled.Decide(new CancelJobCommand { JobId = JobId }, Now + 1));
    }

    [Fact]
    public void A_finished_job_ignores_late_scores()
    {
        var state = Running();
        state.Apply(new JobCancelled { FinishedUnixMs = Now });

        Assert.Empty(state.Decide(Item(0, 4), Now));
        Assert.Empty(state.Decide(BaselineScores(0.1f, 0.9f, 0.3f, 0.5f), Now));
    }

    [Fact]
    public void Progress_counts_evaluations_of_all_from_acceptance_and_a_done_job_reports_its_average_rate()
    {
        var accepted = Accepted();
        Assert.Equal(1 + 9, accepted.ToProgress().EvaluationsTotal); // the baseline and 3x3 windows

        var state = Running();
        foreach (var first in new long[] { 0, 4, 8 })
        {
            var count = first == 8 ? 1 : 4;
            state.Apply(state.Decide(new ScoreWorkItem
            {
                JobId = JobId, Item = new WorkItem { First = first, Count = count }, Scores = { new float[count * 2] }, Worker = "w",
            }, Now)[0]);
        }
        state.Apply(new JobCompleted { Outcome = new Lantern.Contracts.Messages.JobOutcome(), FinishedUnixMs = Now + 2000 });

        var done = state.ToProgress();
        Assert.Equal(10, done.EvaluationsTotal);
        Assert.Equal(10, done.Evaluations);
        Assert.Equal(9 / 2.0, done.EvaluationsPerSecond, 6); // 9 perturbations in the 2 s after the baseline
    }

    private static StartJob Reusing(string source) => new()
    {
        JobId = JobId, SubmittedUnixMs = Now,
        Spec = SpecWithPreprocessing(),
        Reuse = new ReusedResult
        {
            SourceJobId = source, SourceVisible = true, Baseline = { 0.1f, 0.9f, 0.3f, 0.5f }, Targets = { 1, 3 },
            SourceEvaluations = 10, SourceFinishedUnixMs = Now - 60_000,
            Outcome = new Lantern.Contracts.Messages.JobOutcome
            {
                Maps = { new StoredMap { TargetClass = 1, Height = 4, Width = 4, DataSha256 = new string('c', 64) } },
                SummaryJson = """{"job_id":"source","method":"occlusion","parameters":{"seed":0}}""",
            },
        },
    };

    private static JobSpec SpecWithPreprocessing()
    {
        var spec = Spec(new Targets { TopK = 2 });
        spec.Preprocessing = new Preprocessing { Output = "logits" };
        return spec;
    }

    [Fact]
    public void A_job_started_with_a_reused_result_is_done_at_once_with_those_maps_and_no_evaluations()
    {
        var state = new JobState(JobId);
        var events = state.Decide(Reusing("source"), WorkItemSize, nowUnixMs: Now + 5);
        ApplyAll(state, events);

        Assert.Equal([typeof(JobAccepted), typeof(JobReused)], events.Select(e => e.GetType()));
        Assert.Equal(JobPhase.Done, state.Phase);
        Assert.Equal("source", state.ReusedFrom);
        Assert.Equal(new string('c', 64), Assert.Single(state.Outcome!.Maps).DataSha256);
        Assert.Equal([1, 3], state.Targets);
        Assert.Empty(state.PendingItems());
        var progress = state.ToProgress();
        Assert.Equal((ApiJobState.Done, 0L, 0L, 0.0), (progress.State, progress.Evaluations, progress.EvaluationsTotal, progress.EvaluationsPerSecond));
        Assert.Equal(progress.ItemsTotal, progress.ItemsDone);
        var summary = System.Text.Json.Nodes.JsonNode.Parse(state.Outcome.SummaryJson)!;
        Assert.Equal(JobId, summary["job_id"]!.GetValue<string>()); // its own id, not the source's
        Assert.Equal("source", summary["reused"]!["job_id"]!.GetValue<string>());
        Assert.Equal(0, summary["evaluations"]!.GetValue<long>());
    }

    [Fact]
    public void A_reused_job_recovers_from_its_snapshot_as_the_same_reused_job()
    {
        var state = new JobState(JobId);
        ApplyAll(state, state.Decide(Reusing("source"), WorkItemSize, nowUnixMs: Now + 5));

        var recovered = JobState.FromSnapshot(JobId, JobSnapshot.Parser.ParseFrom(state.ToSnapshot().ToByteArray()));

        Assert.Equal(state.ToSnapshot(), recovered.ToSnapshot());
        Assert.Equal("source", recovered.ReusedFrom);
        Assert.Equal(state.ToProgress(), recovered.ToProgress());
    }

    [Fact]
    public void The_reuse_key_ignores_who_asked_and_what_they_called_it_but_not_the_seed_targets_or_parameters()
    {
        var spec = Spec(new Targets { TopK = 2 });
        var asked = spec.Clone();
        asked.Owner = "bob";
        asked.Team = "vision";
        asked.Priority = 3;
        asked.Name = "again";
        asked.Labels.Add("tench");
        var reseeded = spec.Clone();
        reseeded.Seed = 1;
        var retargeted = Spec(new Targets { TopK = 3 });
        var rewindowed = spec.Clone();
        rewindowed.Occlusion.Windows[0].StrideX = 2;
        var otherImage = spec.Clone();
        otherImage.ImageSha256 = new string('d', 64);

        Assert.Equal(spec.ReuseKey(), asked.ReuseKey());
        Assert.Equal(5, new[] { spec, reseeded, retargeted, rewindowed, otherImage }.Select(s => s.ReuseKey()).Distinct().Count());
    }
}
