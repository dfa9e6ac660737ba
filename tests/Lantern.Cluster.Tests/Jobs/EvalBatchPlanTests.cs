using Lantern.Contracts.Messages;
using Lantern.Coordinator.Jobs;

namespace Lantern.Cluster.Tests.Jobs;

/// <summary>A job's evaluation batch is fixed when it is planned, persisted in its spec, and sizes its work items.</summary>
public sealed class EvalBatchPlanTests
{
    private const long Now = 1_700_000_000_000;

    // A 16x16 image under a 2x2 window with stride 1: 15x15 = 225 perturbations.
    private static JobSpec Spec(int evalBatch = 0) => new()
    {
        ModelSha256 = new string('a', 64), ImageSha256 = new string('b', 64), ImageWidth = 16, ImageHeight = 16,
        Targets = new Targets { TopK = 1 }, ClassCount = 4, EvalBatch = evalBatch,
        Occlusion = new OcclusionOptions
        {
            Windows = { new Window { Height = 2, Width = 2, StrideY = 1, StrideX = 1 } },
            Fill = new Fill { Kind = Fill.Types.Kind.Zero },
        },
    };

    private static (JobAccepted Accepted, JobState State) Plan(JobSpec spec, int workItemSize, int evalBatch)
    {
        var state = new JobState("job");
        var accepted = (JobAccepted)Assert.Single(state.Decide(new StartJob { JobId = "job", Spec = spec, SubmittedUnixMs = Now }, workItemSize, evalBatch));
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
    public void Without_a_configured_batch_a_job_runs_at_each_workers_largest_batch_as_before()
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
}
