using Google.Protobuf;
using Lantern.Contracts.Messages;
using Lantern.Methods.Gradients;
using JobState = Lantern.Coordinator.Jobs.JobState;

namespace Lantern.Cluster.Tests.Dream;

/// <summary>
/// A deep dream job's bookkeeping in the job entity's pure state: one work item per target, each item's result one
/// target's dream (not one map per target), kept across a snapshot, so the coordinator holds targets × one dream.
/// </summary>
public sealed class DeepDreamJobStateTests
{
    private const string JobId = "dream1";
    private const long Now = 1_700_000_000_000;

    // A 2×2 model input, 1 octave × 2 iterations: each target's result is 2·2·3 RGB values and a curve of 3 scores.
    private const int MapLength = 2 * 2 * 3 + 3;

    private static JobSpec Spec() => new()
    {
        ModelSha256 = new string('a', 64), ImageSha256 = new string('b', 64), ImageWidth = 2, ImageHeight = 2, ClassCount = 3,
        Targets = new Targets { Classes = { 2, 0 } },
        Preprocessing = new Preprocessing
        {
            Width = 2, Height = 2, Resize = "stretch", ChannelOrder = "rgb", Layout = "nchw", Scale = 1,
            Mean = { 0, 0, 0 }, Std = { 1, 1, 1 }, Output = "logits",
        },
        InputShape = { 3, 2, 2 },
        Gradient = new GradientOptions { Method = DeepDreamMethod.MethodName, DreamOctaves = 1, DreamIterations = 2 },
    };

    private static JobState Running()
    {
        var state = new JobState(JobId);
        Apply(state, state.Decide(new StartJob { JobId = JobId, Spec = Spec(), SubmittedUnixMs = Now }, 32));
        Apply(state, state.Decide(new ScoreWorkItem { JobId = JobId, Item = new WorkItem { Baseline = true }, Scores = { 0.1f, 0.2f, 0.3f } }, Now));
        return state;
    }

    private static void Apply(JobState state, IEnumerable<IJobEvent> events)
    {
        foreach (var e in events) state.Apply(e);
    }

    /// <summary>Item <paramref name="slot"/>'s block: one score per target, then <paramref name="maps"/> maps of values slot·100 + i.</summary>
    private static ScoreWorkItem Dreamt(int slot, int maps = 1) => new()
    {
        JobId = JobId, Item = new WorkItem { First = slot, Count = 1 }, Worker = "w",
        Scores = { new float[2], Enumerable.Range(0, maps * MapLength).Select(i => slot * 100f + i) },
    };

    [Fact]
    public void Each_target_is_one_work_item_whose_result_is_that_targets_dream_alone()
    {
        var state = Running();
        Assert.Equal([new WorkItem { First = 0, Count = 1 }, new WorkItem { First = 1, Count = 1 }], state.PendingItems());

        Apply(state, state.Decide(Dreamt(1), Now));
        Apply(state, state.Decide(Dreamt(0), Now));

        Assert.True(state.AllItemsScored);
        Assert.Equal(2 * MapLength, state.ItemMaps.Length);
        Assert.Equal(Enumerable.Range(0, MapLength).Select(i => (float)i).Concat(Enumerable.Range(0, MapLength).Select(i => 100f + i)),
            state.ItemMaps);
    }

    [Fact]
    public void A_dream_block_holding_a_map_per_target_fails_the_job_saying_one_map_was_expected()
    {
        var state = Running();

        var failed = Assert.IsType<JobFailed>(Assert.Single(state.Decide(Dreamt(0, maps: 2), Now)));

        Assert.Contains($"1 maps of {MapLength}", failed.Reason);
    }

    [Fact]
    public void A_running_dream_recovers_from_its_snapshot_with_the_dreams_done_and_the_rest_pending()
    {
        var state = Running();
        Apply(state, state.Decide(Dreamt(1), Now));

        var recovered = JobState.FromSnapshot(JobId, JobSnapshot.Parser.ParseFrom(state.ToSnapshot().ToByteArray()));

        Assert.Equal(state.ItemMaps, recovered.ItemMaps);
        Assert.Equal([new WorkItem { First = 0, Count = 1 }], recovered.PendingItems());
        Assert.Equal(state.ToSnapshot().ToByteArray(), recovered.ToSnapshot().ToByteArray());
    }
}
