using Lantern.Contracts.Messages;
using Lantern.Coordinator.Jobs;

namespace Lantern.Cluster.Tests.Jobs;

/// <summary>A job's evaluation batch is fixed when it is planned, persisted in its spec, and sizes its work items.</summary>
public sealed class EvalBatchPlanTests
{
    private const long Now = 1_700_000_000_000;

    // A 16x16 image under a 2x2 window with stride 1: 15x15 = 225 perturbations ((side - 1)² in general).
    private static JobSpec Spec(int evalBatch = 0, int side = 16) => new()
    {
        ModelSha256 = new string('a', 64), ImageSha256 = new string('b', 64), ImageWidth = side, ImageHeight = side,
        Targets = new Targets { TopK = 1 }, ClassCount = 4, EvalBatch = evalBatch,
        Occlusion = new OcclusionOptions
        {
            Windows = { new Window { Height = 2, Width = 2, StrideY = 1, StrideX = 1 } },
            Fill = new Fill { Kind = Fill.Types.Kind.Zero },
        },
    };

    private static (JobAccepted Accepted, JobState State) Plan(JobSpec spec, int workItemSize, int evalBatch, int itemsPerShortJob = 0)
    {
        var state = new JobState("job");
        var accepted = (JobAccepted)Assert.Single(state.Decide(new StartJob { JobId = "job", Spec = spec, SubmittedUnixMs = Now },
            workItemSize, evalBatch, itemsPerShortJob: itemsPerShortJob));
        state.Apply(accepted);
        return (accepted, state);
    }

    [Fact]
    public void The_configured_batch_is_written_into_the_persisted_spec_and_items_hold_whole_batches()
    {
        var (accepted, state) = Plan(Spec(), workItemSize: 32, evalBatch: 12);

        Assert.Equal(12, accepted.Spec.EvalBatch);
        Assert.Equal(36, accepted.WorkItemSize); // 32 rounded up to three batches of 12
        Assert.Equal(12, state.Spec!.EvalBatch);
        Assert.Equal((225 + 35) / 36, state.WorkItemCount);
    }

    [Fact]
    public void Without_a_configured_batch_a_job_is_accepted_with_its_batch_undecided()
    {
        var (accepted, _) = Plan(Spec(), workItemSize: 32, evalBatch: 0);

        Assert.Equal(0, accepted.Spec.EvalBatch);
        Assert.Equal(32, accepted.WorkItemSize);
    }

    [Fact]
    public void A_batch_already_in_the_spec_wins_over_the_configured_one()
    {
        var (accepted, _) = Plan(Spec(evalBatch: 5), workItemSize: 32, evalBatch: 12);

        Assert.Equal(5, accepted.Spec.EvalBatch);
        Assert.Equal(35, accepted.WorkItemSize);
    }

    [Fact]
    public void A_batch_larger_than_the_item_size_makes_the_item_one_batch()
    {
        var (accepted, _) = Plan(Spec(), workItemSize: 32, evalBatch: 256);

        Assert.Equal(256, accepted.Spec.EvalBatch);
        Assert.Equal(256, accepted.WorkItemSize);
    }

    [Fact]
    public void The_batch_survives_a_snapshot()
    {
        var (_, state) = Plan(Spec(), workItemSize: 32, evalBatch: 12);

        var restored = JobState.FromSnapshot("job", state.ToSnapshot());

        Assert.Equal(12, restored.Spec!.EvalBatch);
        Assert.Equal(36, restored.WorkItemSize);
    }

    private static BaselineScored ScoreBaseline(JobState state, int bestBatch, int largestBatch = 32)
    {
        var baseline = new ScoreWorkItem
        {
            JobId = "job", Item = new WorkItem { Baseline = true }, Scores = { 0.1f, 0.7f, 0.1f, 0.1f },
            BestBatch = bestBatch, LargestBatch = largestBatch,
        };
        var scored = (BaselineScored)Assert.Single(state.Decide(baseline, Now));
        state.Apply(scored);
        return scored;
    }

    [Fact]
    public void A_job_without_a_configured_batch_is_planned_with_the_batch_its_baseline_worker_reported()
    {
        var (accepted, state) = Plan(Spec(), workItemSize: 32, evalBatch: 0);

        var scored = ScoreBaseline(state, bestBatch: 12);

        Assert.Equal((12, 36), (scored.EvalBatch, scored.WorkItemSize));
        Assert.Equal(12, state.Spec!.EvalBatch);
        Assert.Equal(36, state.WorkItemSize);
        Assert.Equal((225 + 35) / 36, state.WorkItemCount);
        var items = state.PendingItems().ToList();
        Assert.Equal(state.WorkItemCount, items.Count);
        Assert.All(items.SkipLast(1), item => Assert.Equal(36, item.Count));
        Assert.Equal(225 - 6 * 36, items[^1].Count);
        Assert.Equal(0, accepted.Spec.EvalBatch); // the accepted event is not changed: the baseline's event says the batch

        var replayed = new JobState("job").Apply(accepted).Apply(scored);
        var restored = JobState.FromSnapshot("job", state.ToSnapshot());
        foreach (var again in new[] { replayed, restored })
        {
            Assert.Equal(12, again.Spec!.EvalBatch);
            Assert.Equal(36, again.WorkItemSize);
            Assert.Equal(state.WorkItemCount, again.WorkItemCount);
        }
    }

    [Fact]
    public void A_configured_batch_is_not_replaced_by_the_baseline_workers()
    {
        var (_, state) = Plan(Spec(), workItemSize: 32, evalBatch: 12);

        var scored = ScoreBaseline(state, bestBatch: 64);

        Assert.Equal((0, 0), (scored.EvalBatch, scored.WorkItemSize));
        Assert.Equal(12, state.Spec!.EvalBatch);
        Assert.Equal(36, state.WorkItemSize);
    }

    [Fact]
    public void A_batch_measured_above_the_item_size_makes_the_item_one_batch()
    {
        var (_, state) = Plan(Spec(), workItemSize: 32, evalBatch: 0);

        var scored = ScoreBaseline(state, bestBatch: 128);

        Assert.Equal((128, 128), (scored.EvalBatch, scored.WorkItemSize));
        Assert.Equal(2, state.WorkItemCount);
    }

    [Theory]
    [InlineData(32, 32, 32, 32)] // the defaults: items and batches of 32, as before batches were sized
    [InlineData(4, 32, 4, 4)]    // small items stay small: the largest batch is no measurement
    [InlineData(32, 1, 1, 32)]   // a model that only runs one image at a time
    public void A_worker_without_a_best_batch_plans_its_largest_within_the_item_size(int workItemSize, int largest, int batch, int itemSize)
    {
        var (_, state) = Plan(Spec(), workItemSize, evalBatch: 0);

        var scored = ScoreBaseline(state, bestBatch: 0, largestBatch: largest);

        Assert.Equal((batch, itemSize), (scored.EvalBatch, scored.WorkItemSize));
        Assert.Equal(batch, state.Spec!.EvalBatch);
    }

    [Fact]
    public void A_baseline_worker_that_reports_no_batch_leaves_the_job_at_each_workers_largest_batch()
    {
        var (_, state) = Plan(Spec(), workItemSize: 32, evalBatch: 0);

        var scored = ScoreBaseline(state, bestBatch: 0, largestBatch: 0);

        Assert.Equal(0, scored.EvalBatch);
        Assert.Equal(0, state.Spec!.EvalBatch);
        Assert.Equal(32, state.WorkItemSize);
    }

    [Theory]
    [InlineData(16, 8, 29)]     // 225 perturbations: 64 items would hold 4, so items of the smallest, 8
    [InlineData(32, 16, 61)]    // 961: items of 16
    [InlineData(128, 32, 505)]  // 16,129: a long job keeps items of 32
    public void A_short_job_is_split_into_smaller_items(int side, int itemSize, int items)
    {
        var (accepted, state) = Plan(Spec(side: side), workItemSize: 32, evalBatch: 0, itemsPerShortJob: 64);

        Assert.Equal(itemSize, accepted.WorkItemSize);
        Assert.Equal(items, state.WorkItemCount);
        ScoreBaseline(state, bestBatch: 0, largestBatch: 0); // a worker that reports no batch leaves the items as accepted
        Assert.Equal((side - 1) * (side - 1), state.PendingItems().Sum(item => item.Count));
    }

    [Theory]
    [InlineData(5, 5, 20)]      // a short job's items of 16 hold whole batches: four of 5
    [InlineData(64, 64, 64)]    // a batch above the short item makes the item one batch
    public void A_short_jobs_items_hold_whole_batches_of_the_batch_its_baseline_worker_reported(int bestBatch, int batch, int itemSize)
    {
        var (_, state) = Plan(Spec(side: 32), workItemSize: 32, evalBatch: 0, itemsPerShortJob: 64);

        var scored = ScoreBaseline(state, bestBatch);

        Assert.Equal((batch, itemSize), (scored.EvalBatch, scored.WorkItemSize));
        Assert.All(state.PendingItems().SkipLast(1), item => Assert.Equal(itemSize, item.Count));
    }

    [Fact]
    public void A_short_job_on_a_worker_without_a_best_batch_runs_each_item_as_one_batch_of_its_largest()
    {
        var (_, state) = Plan(Spec(side: 32), workItemSize: 32, evalBatch: 0, itemsPerShortJob: 64);

        var scored = ScoreBaseline(state, bestBatch: 0, largestBatch: 32);

        Assert.Equal((16, 16), (scored.EvalBatch, scored.WorkItemSize));
    }

    [Fact]
    public void An_adaptive_job_whose_length_is_not_known_when_planned_keeps_the_usual_item_size()
    {
        var spec = Spec(side: 32);
        spec.Occlusion.Windows.Add(new Window { Height = 8, Width = 8, StrideY = 4, StrideX = 4 });
        (spec.Occlusion.CoarseToFine, spec.Occlusion.RefineThreshold) = (true, 0.5f);

        var (accepted, _) = Plan(spec, workItemSize: 32, evalBatch: 0, itemsPerShortJob: 64);

        Assert.Equal(32, accepted.WorkItemSize);
    }
}
