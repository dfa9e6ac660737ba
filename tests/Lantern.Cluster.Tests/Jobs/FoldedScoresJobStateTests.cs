using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Jobs;
using Lantern.Explainers.Rise;
using Lantern.Methods;
using JobState = Lantern.Coordinator.Jobs.JobState;

namespace Lantern.Cluster.Tests.Jobs;

/// <summary>
/// RISE and input-gradient jobs fold their work items in order as the scored prefix grows (IScoreFold), so the job
/// entity holds the maps' sums and the items scored ahead of the prefix, not every perturbation's scores or every
/// item's maps. The maps must be the same bits as assembling everything at the end, however the items arrive, and
/// across snapshots of every format.
/// </summary>
public sealed class FoldedScoresJobStateTests
{
    private const string JobId = "rise1";
    private const long Now = 1_700_000_000_000;
    private const int Width = 12, Height = 10, ClassCount = 5;

    private static JobSpec Spec(int samples) => new()
    {
        ModelSha256 = new string('a', 64),
        ImageSha256 = new string('b', 64),
        ImageWidth = Width,
        ImageHeight = Height,
        Targets = new Targets { TopK = 2 },
        ClassCount = ClassCount,
        Seed = 7,
        Rise = new RiseOptions { Samples = samples, Cells = 3, Density = 0.5f },
    };

    private static readonly float[] Baseline = [0.1f, 0.9f, 0.3f, 0.5f, 0.2f]; // top-2: classes 1 and 3

    /// <summary>Accepted in items of <paramref name="itemSize"/> and baselined: running, nothing scored.</summary>
    private static (JobState State, List<IJobEvent> Journal) Running(int samples, int itemSize)
    {
        var state = new JobState(JobId);
        var journal = new List<IJobEvent>();
        Record(state, journal, state.Decide(new StartJob { JobId = JobId, Spec = Spec(samples), SubmittedUnixMs = Now }, itemSize));
        Record(state, journal, state.Decide(
            new ScoreWorkItem { JobId = JobId, Item = new WorkItem { Baseline = true }, Scores = { Baseline }, Worker = "w" }, Now));
        return (state, journal);
    }

    private static void Record(JobState state, List<IJobEvent> journal, IEnumerable<IJobEvent> events)
    {
        foreach (var e in events)
        {
            state.Apply(e);
            journal.Add(e);
        }
    }

    /// <summary>Perturbation p's score for target slot t: varied, with zeros (the fold skips them) and negatives.</summary>
    private static float ScoreOf(long p, int t) => (p * 7 + t * 3) % 11 == 0 ? 0f : MathF.Sin(p * 0.37f + t) * (1 + p % 5);

    private static ScoreWorkItem ItemScores(long first, int count) => new()
    {
        JobId = JobId,
        Item = new WorkItem { First = first, Count = count },
        Scores = { Enumerable.Range(0, count).SelectMany(i => new[] { ScoreOf(first + i, 0), ScoreOf(first + i, 1) }) },
        Worker = "w",
    };

    /// <summary>The maps RISE's assembler makes from the whole score matrix: what the job's maps must equal bit for bit.</summary>
    private static float[][] Reference(int samples)
    {
        var scores = new float[samples * 2];
        for (var p = 0; p < samples; p++) (scores[p * 2], scores[p * 2 + 1]) = (ScoreOf(p, 0), ScoreOf(p, 1));
        return RiseAssembler.Assemble(new RiseParameters(samples, 7, 3, 0.5f), Width, Height, scores, 2);
    }

    private static void AssertMapsBitIdentical(float[][] expected, JobState state)
    {
        Assert.True(state.AllItemsScored);
        var maps = state.FoldedMaps()!.Maps;
        Assert.Equal([1, 3], maps.Select(m => m.Target));
        for (var t = 0; t < expected.Length; t++)
            Assert.Equal(expected[t].Select(BitConverter.SingleToInt32Bits), maps[t].Data.Select(BitConverter.SingleToInt32Bits));
    }

    private static JobState RoundTrip(JobState state) =>
        JobState.FromSnapshot(JobId, JobSnapshot.Parser.ParseFrom(state.ToSnapshot().ToByteArray()));

    [Fact]
    public void Items_scored_out_of_order_are_held_until_the_gap_closes_then_folded_and_the_maps_equal_the_assembled_matrix()
    {
        // 100 samples in items of 8: 13 items, the last of 4.
        var (state, _) = Running(samples: 100, itemSize: 8);
        Assert.True(state.FoldsScores);
        Assert.Empty(state.TargetScores);

        foreach (var k in new[] { 2, 5, 1 }) state.Apply(state.Decide(ItemScores(k * 8L, 8), Now).Single());
        Assert.Equal(3, state.ItemsHeldAhead); // item 0 is missing: nothing can be folded yet

        state.Apply(state.Decide(ItemScores(0, 8), Now).Single());
        Assert.Equal(1, state.ItemsHeldAhead); // 0, 1, 2 folded; 5 waits for 3 and 4

        foreach (var k in new[] { 12, 4, 3, 6, 7, 8, 9, 10, 11 })
            state.Apply(state.Decide(ItemScores(k * 8L, k == 12 ? 4 : 8), Now).Single());
        Assert.Equal(0, state.ItemsHeldAhead);
        Assert.Equal(101, state.Evaluations);
        AssertMapsBitIdentical(Reference(100), state);
    }

    [Fact]
    public void A_job_held_in_a_fold_takes_the_same_memory_at_a_hundred_times_the_samples()
    {
        long HeldAfterAllScored(int samples)
        {
            var (state, _) = Running(samples, itemSize: 32);
            for (var first = 0L; first < samples; first += 32)
                state.Apply(state.Decide(ItemScores(first, (int)Math.Min(32, samples - first)), Now).Single());
            Assert.True(state.AllItemsScored);
            return state.ScoreBytesHeld;
        }

        var small = HeldAfterAllScored(1_000);
        var large = HeldAfterAllScored(100_000);

        Assert.Equal(small, large);
        // The two targets' sums in double and one mask: the maps, not the 100,000 × 2 scores (800 KB).
        Assert.Equal(2L * Width * Height * sizeof(double) + Width * Height * sizeof(float), large);
    }

    [Fact]
    public void Any_arrival_order_and_any_snapshot_point_give_the_maps_of_the_whole_matrix_bit_for_bit()
    {
        const int samples = 61, itemSize = 4; // 16 items, the last of 1
        var reference = Reference(samples);
        var orders = Gen.Shuffle(Enumerable.Range(0, 16).ToArray()).Zip(Gen.Choose(0, 16)).ToArbitrary();

        var property = Prop.ForAll(orders, pair =>
        {
            var (order, snapshotAfter) = pair;
            var (state, journal) = Running(samples, itemSize);
            var snapshotAt = -1;
            for (var n = 0; n < order.Length; n++)
            {
                if (n == snapshotAfter)
                {
                    // Recover from the snapshot, as a restarted coordinator would, and go on with the recovered state.
                    var recovered = RoundTrip(state);
                    Assert.Equal(state.ToSnapshot(), recovered.ToSnapshot());
                    Assert.Equal(state.ItemsHeldAhead, recovered.ItemsHeldAhead);
                    state = recovered;
                    snapshotAt = journal.Count;
                }
                var k = order[n];
                Record(state, journal, state.Decide(ItemScores((long)k * itemSize, Math.Min(itemSize, samples - k * itemSize)), Now));
            }
            AssertMapsBitIdentical(reference, state);

            // Replaying the whole journal without a snapshot gives the same state.
            var replayed = new JobState(JobId);
            foreach (var e in journal) replayed.Apply(e);
            Assert.Equal(state.ToSnapshot(), replayed.ToSnapshot());
            Assert.True(snapshotAt <= journal.Count);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60).WithQuietOnSuccess(true), property);
    }

    [Fact]
    public void A_snapshot_written_before_scores_were_folded_recovers_and_finishes_with_the_same_maps()
    {
        const int samples = 100, itemSize = 8;
        var (state, _) = Running(samples, itemSize);
        var scored = new[] { 0, 1, 2, 4, 7 };
        foreach (var k in scored) state.Apply(state.Decide(ItemScores(k * (long)itemSize, itemSize), Now).Single());

        // What the code before folding wrote: every scored item's block, in item order, no fold.
        var old = state.ToSnapshot();
        old.FoldedItems = 0;
        old.FoldState = ByteString.Empty;
        old.TargetScores.Clear();
        foreach (var k in scored) old.TargetScores.AddRange(ItemScores(k * (long)itemSize, itemSize).Scores);

        var recovered = JobState.FromSnapshot(JobId, JobSnapshot.Parser.ParseFrom(old.ToByteArray()));
        Assert.Equal(state.ToSnapshot(), recovered.ToSnapshot()); // 0–2 folded again, 4 and 7 held ahead
        Assert.Equal(2, recovered.ItemsHeldAhead);

        foreach (var k in new[] { 3, 5, 6, 8, 9, 10, 11, 12 })
            recovered.Apply(recovered.Decide(ItemScores(k * (long)itemSize, k == 12 ? 4 : itemSize), Now).Single());
        AssertMapsBitIdentical(Reference(samples), recovered);
    }

    [Fact]
    public void A_completed_job_lets_go_of_its_fold()
    {
        var (state, _) = Running(samples: 16, itemSize: 8);
        state.Apply(state.Decide(ItemScores(0, 8), Now).Single());
        state.Apply(state.Decide(ItemScores(8, 8), Now).Single());
        state.Apply(new JobCompleted { Outcome = new JobOutcome(), FinishedUnixMs = Now + 1 });

        Assert.False(state.FoldsScores);
        Assert.Equal(0, state.ScoreBytesHeld);
    }

    // ---------------------------------------------------------------- input gradients: each item's maps are summed

    /// <summary>Integrated gradients (the score-bearing kind: its summary reads the last two evaluations' scores) on a 3×2 input.</summary>
    private static JobSpec GradientSpec() => new()
    {
        ModelSha256 = new string('a', 64), ImageSha256 = new string('b', 64), ImageWidth = 3, ImageHeight = 2, ClassCount = ClassCount,
        Targets = new Targets { TopK = 2 },
        Preprocessing = new Preprocessing
        {
            Width = 3, Height = 2, Resize = "stretch", ChannelOrder = "rgb", Layout = "nchw", Scale = 1,
            Mean = { 0, 0, 0 }, Std = { 1, 1, 1 }, Output = "logits",
        },
        InputShape = { 3, 2, 3 },
        Gradient = new GradientOptions { Method = "integrated-gradients", Steps = 30, Integration = "riemann_left", Baseline = "zero" },
    };

    private const int GradientMapLength = 3 * 2;

    /// <summary>Item <paramref name="k"/> of items of 8 (32 evaluations: 30 steps, the input and the baseline): its scores, then one map per target.</summary>
    private static ScoreWorkItem GradientItem(int k)
    {
        var first = k * 8L;
        var count = (int)Math.Min(8, 32 - first);
        return new ScoreWorkItem
        {
            JobId = JobId, Item = new WorkItem { First = first, Count = count }, Worker = "w",
            Scores =
            {
                Enumerable.Range(0, count).SelectMany(i => new[] { ScoreOf(first + i, 0), ScoreOf(first + i, 1) }),
                Enumerable.Range(0, 2 * GradientMapLength).Select(i => MathF.Cos(k * 1.7f + i) / (1 + i % 3)),
            },
        };
    }

    [Fact]
    public void An_input_gradient_job_sums_its_items_maps_as_they_arrive_and_gives_the_bits_of_summing_them_all_at_the_end()
    {
        var state = new JobState(JobId);
        foreach (var e in state.Decide(new StartJob { JobId = JobId, Spec = GradientSpec(), SubmittedUnixMs = Now }, 32)) state.Apply(e);
        foreach (var e in state.Decide(new ScoreWorkItem { JobId = JobId, Item = new WorkItem { Baseline = true }, Scores = { Baseline }, Worker = "w" }, Now))
            state.Apply(e);
        Assert.True(state.FoldsScores);
        Assert.Empty(state.ItemMaps);

        state.Apply(state.Decide(GradientItem(2), Now).Single());
        state.Apply(state.Decide(GradientItem(0), Now).Single());
        Assert.Equal(1, state.ItemsHeldAhead);
        var recovered = RoundTrip(state); // item 2 travels in the snapshot's item_maps
        Assert.Equal(state.ToSnapshot(), recovered.ToSnapshot());
        recovered.Apply(recovered.Decide(GradientItem(3), Now).Single());
        recovered.Apply(recovered.Decide(GradientItem(1), Now).Single());
        Assert.Equal(0, recovered.ItemsHeldAhead);

        // Everything at the end, as a job kept it before folding: the score matrix and every item's maps, in item order.
        var items = Enumerable.Range(0, 4).Select(GradientItem).ToArray();
        var scores = items.SelectMany(item => item.Scores.Take(item.Item.Count * 2)).ToArray();
        var itemMaps = items.SelectMany(item => item.Scores.Skip(item.Item.Count * 2)).ToArray();
        var expected = MethodCatalog.For(GradientSpec()).Assemble([], scores, itemMaps, recovered.Targets);
        var folded = recovered.FoldedMaps()!;
        Assert.Equal(expected.Maps.Count, folded.Maps.Count);
        foreach (var (want, got) in expected.Maps.Zip(folded.Maps))
            Assert.Equal(want.Data.Select(BitConverter.SingleToInt32Bits), got.Data.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expected.PerTarget!.ToJsonString(), folded.PerTarget!.ToJsonString()); // completeness, from the folded scores
    }
}
