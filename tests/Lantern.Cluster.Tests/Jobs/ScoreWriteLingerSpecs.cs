using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.TestKit;
using Lantern.Cluster.Tests.Support;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.Hosting;
using Lantern.Coordinator.Jobs;
using Lantern.Storage;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Jobs;

/// <summary>
/// A job entity alone on a journal that reports its writes, with probes for the dispatcher and the job index: how score
/// blocks arriving one by one are grouped into journal writes (<see cref="CoordinatorOptions.ScoreWriteLinger"/>).
/// </summary>
public sealed class ScoreWriteLingerSpecs() : Akka.TestKit.Xunit2.TestKit(JournalConfig)
{
    private const string JobId = "linger";
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    private static readonly Config JournalConfig = ConfigurationFactory.ParseString($$"""
        akka.persistence.journal.plugin = "akka.persistence.journal.reporting"
        akka.persistence.journal.reporting {
          class = "{{typeof(ReportingJournal).AssemblyQualifiedName}}"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """);

    // A 4x4 image under a 2x2 window with stride 1: 9 perturbations, one per work item.
    private static readonly JobSpec Spec = new()
    {
        ModelSha256 = new string('a', 64), ImageSha256 = new string('b', 64), ImageWidth = 4, ImageHeight = 4,
        Targets = new Targets { TopK = 1 }, ClassCount = 3, Name = "linger", Preprocessing = new Preprocessing(),
        Occlusion = new OcclusionOptions
        {
            Windows = { new Window { Height = 2, Width = 2, StrideY = 1, StrideX = 1 } },
            Fill = new Fill { Kind = Fill.Types.Kind.Zero },
        },
    };

    private const int Items = 9;

    [Fact]
    public void Blocks_that_arrive_within_the_linger_share_one_write_and_the_last_one_is_written_without_waiting()
    {
        // A linger far longer than the test: only the rule that the rest of the plan is written at once can end it.
        var writes = RunToBaseline(TimeSpan.FromMinutes(10), out var entity);

        for (var k = 0; k < Items; k++) entity.Tell(ItemBlock(k));

        var write = writes.ExpectMsg<JournalWrite>(Soon);
        Assert.Equal(Items, write.ItemsScored);
        AwaitState(entity, ApiJobState.Done);
    }

    [Fact]
    public void With_no_linger_the_first_block_is_written_alone_as_soon_as_the_journal_is_free()
    {
        var writes = RunToBaseline(TimeSpan.Zero, out var entity);

        for (var k = 0; k < Items; k++) entity.Tell(ItemBlock(k));

        Assert.Equal(1, writes.ExpectMsg<JournalWrite>(Soon).ItemsScored);
        var written = 1;
        while (written < Items) written += writes.ExpectMsg<JournalWrite>(Soon).ItemsScored;
        Assert.Equal(Items, written);
    }

    [Fact]
    public void A_lone_block_is_written_once_the_linger_is_over()
    {
        var writes = RunToBaseline(TimeSpan.FromMilliseconds(200), out var entity);

        entity.Tell(ItemBlock(4));

        Assert.Equal(1, writes.ExpectMsg<JournalWrite>(Soon).ItemsScored);
        AwaitAssert(() => Assert.Equal(2, Status(entity).ItemsDone), Soon); // the baseline and the one item
    }

    [Fact]
    public void A_failed_block_is_written_at_once_and_fails_the_job()
    {
        var writes = RunToBaseline(TimeSpan.FromMinutes(10), out var entity);

        entity.Tell(ItemBlock(0));
        entity.Tell(new ScoreWorkItem { JobId = JobId, Item = new WorkItem { First = 1, Count = 1 }, Error = "the model broke", Worker = "w" });

        writes.FishForMessage<JournalWrite>(w => w.Failed, Soon);
        AwaitState(entity, ApiJobState.Failed);
    }

    /// <summary>Starts the job and scores its baseline; returns the probe that sees the journal's writes from then on.</summary>
    private TestProbe RunToBaseline(TimeSpan linger, out IActorRef entity)
    {
        var dispatcher = CreateTestProbe("dispatcher");
        var options = new CoordinatorOptions { WorkItemSize = 1, ItemsPerShortJob = 0, ScoreWriteLinger = linger };
        var artifacts = new SqliteArtifactStore($"Data Source={TestNode.TempDatabase()}");
        entity = Sys.ActorOf(JobEntity.PropsFor(JobId, dispatcher.Ref, CreateTestProbe("index").Ref, artifacts, options));

        entity.Tell(new StartJob { JobId = JobId, Spec = Spec, SubmittedUnixMs = 1 });
        ExpectMsg<JobStatusResult>(Soon);
        entity.Tell(new ScoreWorkItem { JobId = JobId, Item = new WorkItem { Baseline = true }, Scores = { 0.1f, 0.7f, 0.2f }, Worker = "w" });
        // Items are offered once the baseline's write is applied: the journal is idle from here.
        dispatcher.FishForMessage<OfferWork>(o => o.Items.Any(i => !i.Baseline), Soon);

        var writes = CreateTestProbe("writes");
        Sys.EventStream.Subscribe(writes.Ref, typeof(JournalWrite));
        return writes;
    }

    private static ScoreWorkItem ItemBlock(int k) =>
        new() { JobId = JobId, Item = new WorkItem { First = k, Count = 1 }, Scores = { 0.5f - 0.01f * k }, Worker = "w" };

    private void AwaitState(IActorRef entity, ApiJobState state) =>
        AwaitAssert(() =>
        {
            var progress = Status(entity);
            Assert.True(progress.State == state, $"{progress.State}: {progress.Error}");
        }, Soon);

    private static Contracts.Api.JobProgress Status(IActorRef entity) =>
        entity.Ask<JobStatusResult>(new GetJobStatus { JobId = JobId }, Soon).Result.Progress;
}

/// <summary>What one journal write held, published on the event stream by <see cref="ReportingJournal"/>.</summary>
public sealed record JournalWrite(int ItemsScored, bool Failed);

/// <summary>The in-memory journal, publishing each write's contents so a test sees how events were grouped.</summary>
public sealed class ReportingJournal : MemoryJournal
{
    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        var events = writes.SelectMany(w => (IImmutableList<IPersistentRepresentation>)w.Payload).Select(p => p.Payload).ToList();
        Context.System.EventStream.Publish(new JournalWrite(events.Count(e => e is ItemScored), events.Any(e => e is JobFailed)));
        return base.WriteMessagesAsync(writes, cancellationToken);
    }
}
