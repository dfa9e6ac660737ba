using Google.Protobuf;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Jobs;
using Lantern.Explainers.Occlusion;
using Lantern.Methods;
using JobState = Lantern.Coordinator.Jobs.JobState;

namespace Lantern.Cluster.Tests.Jobs;

/// <summary>
/// Coarse-to-fine occlusion in the job entity's pure state: each step's windows are decided from completed scores,
/// persisted as an event, and replayed on recovery to the same items, scores and maps.
/// </summary>
public sealed class CoarseToFineJobStateTests
{
    private const string JobId = "c2f";
    private const long Now = 1_700_000_000_000;
    private const int WorkItemSize = 8;
    private const int Size = 16;

    // 16x16 image: an 8x8 window with stride 4 (3x3 = 9 windows, the coarse step) and a 2x2 window with stride 2 (8x8 = 64).
    private static JobSpec Spec() => new()
    {
        ModelSha256 = new string('a', 64),
        ImageSha256 = new string('b', 64),
        ImageWidth = Size,
        ImageHeight = Size,
        Targets = new Targets { Classes = { 0 } },
        ClassCount = 2,
        Occlusion = new OcclusionOptions
        {
            Windows =
            {
                new Window { Height = 2, Width = 2, StrideY = 2, StrideX = 2 },
                new Window { Height = 8, Width = 8, StrideY = 4, StrideX = 4 },
            },
            Fill = new Fill { Kind = Fill.Types.Kind.Zero },
            CoarseToFine = true,
            RefineThreshold = 0.5f,
        },
    };

    private static readonly OcclusionPlan Plan = OcclusionPlan.Create(Size, Size, Spec().Occlusion.Windows.ToExplainers());

    /// <summary>A window's score: the baseline (1) less what the window covers of a bright spot at (2..5, 2..5).</summary>
    private static float ScoreOf(long window)
    {
        var r = Plan.WindowAt(window);
        var covered = 0;
        for (var y = r.Y; y < r.Bottom; y++)
        for (var x = r.X; x < r.Right; x++)
            if (x is >= 2 and < 6 && y is >= 2 and < 6) covered++;
        return 1f - covered / 16f;
    }

    /// <summary>Drives a job the way the entity does (refinement first, then the pending items), returning every event.</summary>
    private static (JobState State, List<IJobEvent> Events) RunToTheEnd(int stopAfterEvents = int.MaxValue)
    {
        var state = new JobState(JobId);
        var events = new List<IJobEvent>();
        Apply(state, events, state.Decide(new StartJob { JobId = JobId, Spec = Spec(), SubmittedUnixMs = Now }, WorkItemSize));
        Apply(state, events, state.Decide(new ScoreWorkItem { JobId = JobId, Item = new WorkItem { Baseline = true }, Scores = { 1f, 0f } }, Now));
        Drive(state, events, stopAfterEvents);
        return (state, events);
    }

    private static void Drive(JobState state, List<IJobEvent> events, int stopAfterEvents = int.MaxValue)
    {
        while (!state.AllItemsScored && events.Count < stopAfterEvents)
        {
            var refined = state.DecidePlanExtension();
            if (refined.Count > 0)
            {
                Apply(state, events, refined);
                continue;
            }
            var item = state.PendingItems().First();
            var work = new WorkSpec { Perturbations = { state.PerturbationRuns() } };
            var scores = Enumerable.Range(0, item.Count).Select(i => ScoreOf(work.MethodPerturbation(item.First + i)));
            Apply(state, events, state.Decide(new ScoreWorkItem { JobId = JobId, Item = item, Scores = { scores }, Worker = "w" }, Now));
        }
    }

    private static void Apply(JobState state, List<IJobEvent> events, IEnumerable<IJobEvent> decided)
    {
        foreach (var e in decided)
        {
            state.Apply(e);
            events.Add(e);
        }
    }

    [Fact]
    public void The_job_scores_the_same_windows_and_imputes_the_same_scores_as_the_in_process_algorithm()
    {
        var (state, events) = RunToTheEnd();

        var reference = new CoarseToFineOcclusion(Plan, [1f], 0.5f);
        for (var step = 0; step < reference.Steps; step++)
        {
            var needed = reference.Needed(step);
            reference.Record(step, needed, [.. needed.Select(ScoreOf)]);
        }
        Assert.Equal(2, events.OfType<PlanExtended>().Count());
        Assert.Equal(reference.Evaluated, state.PlanSelected);
        Assert.True(state.PlanSelected < Plan.WindowCount, $"{state.PlanSelected} of {Plan.WindowCount} windows evaluated");
        Assert.Equal(reference.Scores.ToArray(), state.ScoresForMaps().ToArray());
        Assert.Equal(state.ToProgress().ItemsTotal, state.ToProgress().ItemsDone);
    }

    [Fact]
    public void A_recovered_job_replays_the_refinement_and_goes_on_with_the_same_items_to_the_same_scores()
    {
        var (finished, all) = RunToTheEnd();
        var crashAt = all.FindLastIndex(e => e is PlanExtended) + 2; // the last step decided, one of its items scored
        var (live, events) = RunToTheEnd(stopAfterEvents: crashAt);

        var recovered = new JobState(JobId);
        foreach (var e in events) recovered.Apply(e);

        Assert.Equal(2, recovered.StepsDecided);
        Assert.Empty(recovered.DecidePlanExtension()); // the replayed step is not decided again
        Assert.Equal(live.PendingItems(), recovered.PendingItems());
        Assert.Equal(live.PerturbationRuns(), recovered.PerturbationRuns());
        Assert.Equal(live.ToProgress(), recovered.ToProgress());

        Drive(recovered, events);
        Assert.True(recovered.AllItemsScored);
        Assert.Equal(finished.Evaluations, recovered.Evaluations);
        Assert.Equal(finished.ScoresForMaps().ToArray(), recovered.ScoresForMaps().ToArray());
    }

    [Fact]
    public void Each_step_starts_at_a_work_item_boundary_so_no_item_spans_two_steps()
    {
        var (state, events) = RunToTheEnd();

        var items = events.OfType<ItemScored>().ToList();
        Assert.All(items, i => Assert.Equal(0, i.First % WorkItemSize));
        var runs = state.PerturbationRuns().ToList();
        Assert.Equal(9, runs.Where(r => r.First < WorkItemSize * 2).Sum(r => r.Count)); // the coarse step: 9 windows in 2 items
        Assert.Equal(2 * WorkItemSize, runs.First(r => r.First >= 9).First);
        Assert.Equal(state.PlanSelected, items.Sum(i => (long)i.Count));
    }

    [Fact]
    public void Recovering_from_a_snapshot_at_any_event_and_replaying_the_rest_gives_the_state_of_replaying_every_event()
    {
        var (finished, all) = RunToTheEnd();
        var expected = finished.ToSnapshot().ToByteArray();
        for (var cut = 1; cut < all.Count; cut++)
        {
            var before = new JobState(JobId);
            foreach (var e in all.Take(cut)) before.Apply(e);
            // Through the bytes the snapshot store keeps.
            var snapshot = JobSnapshot.Parser.ParseFrom(before.ToSnapshot().ToByteArray());
            var recovered = JobState.FromSnapshot(JobId, snapshot);
            Assert.Equal(before.PendingItems(), recovered.PendingItems());
            foreach (var e in all.Skip(cut)) recovered.Apply(e);

            Assert.Equal(expected, recovered.ToSnapshot().ToByteArray());
            Assert.Equal(finished.ScoresForMaps().ToArray(), recovered.ScoresForMaps().ToArray());
            Assert.Equal(finished.ToProgress(), recovered.ToProgress());
            Assert.True(recovered.AllItemsScored);
        }
    }

    [Fact]
    public void A_journal_that_recorded_its_steps_as_OcclusionRefined_replays_to_the_same_job()
    {
        var (finished, all) = RunToTheEnd();
        var old = all.Select(e => e is PlanExtended p ? new OcclusionRefined { Step = p.Step, Runs = { p.Runs } } : e).ToList();
        Assert.Contains(old, e => e is OcclusionRefined);

        var replayed = new JobState(JobId);
        foreach (var e in old) replayed.Apply(e);
        Assert.Equal(finished.ToSnapshot(), replayed.ToSnapshot());
        Assert.Equal(finished.ScoresForMaps().ToArray(), replayed.ScoresForMaps().ToArray());
    }
}
