using System.Runtime.Serialization;
using Akka.Serialization;
using Google.Protobuf;
using Lantern.Contracts.Messages;
using Lantern.Contracts.Serialization;
using ApiJobState = Lantern.Contracts.Api.JobState;
using JobProgress = Lantern.Contracts.Api.JobProgress;

namespace Lantern.Cluster.Tests.Serialization;

/// <summary>
/// Every internal message crosses nodes and lands in the journal as protobuf, under its protobuf full name, never as
/// Akka's default JSON. The actor system is bound the way <c>LanternNode</c> binds it (every ILanternMessage).
/// </summary>
public sealed class ProtobufSerializerTests() : Akka.TestKit.Xunit2.TestKit(Config)
{
    private const string Config = """
        akka.actor {
          serializers.lantern-protobuf = "Lantern.Contracts.Serialization.ProtobufMessageSerializer, Lantern.Contracts"
          serialization-bindings {
            "Lantern.Contracts.Messages.ILanternMessage, Lantern.Contracts" = lantern-protobuf
          }
        }
        """;

    /// <summary>Every protobuf message that implements ILanternMessage, whatever .proto declares it, by full name.</summary>
    private static readonly IReadOnlyList<string> BoundMessageNames = [.. typeof(ILanternMessage).Assembly.GetTypes()
        .Where(t => typeof(ILanternMessage).IsAssignableFrom(t) && typeof(IMessage).IsAssignableFrom(t) && !t.IsAbstract)
        .Select(t => ((IMessage)Activator.CreateInstance(t)!).Descriptor.FullName)];

    public static TheoryData<string> MessageNames => [.. BoundMessageNames];

    [Fact]
    public void Every_cluster_message_that_crosses_nodes_has_a_populated_example_here()
    {
        Assert.NotEmpty(BoundMessageNames);
        Assert.Equal(BoundMessageNames.Order(StringComparer.Ordinal), Examples.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void A_cluster_message_is_serialized_by_the_protobuf_serializer(string name)
    {
        var serializer = Sys.Serialization.FindSerializerFor(Examples[name]);

        Assert.IsType<ProtobufMessageSerializer>(serializer);
        Assert.Equal(ProtobufMessageSerializer.SerializerId, serializer.Identifier);
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void A_cluster_message_round_trips_equal_under_its_protobuf_full_name(string name)
    {
        var message = Examples[name];
        var serializer = Sys.Serialization.FindSerializerFor(message);

        var bytes = serializer.ToBinary(message);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var back = Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        Assert.Equal(name, manifest);
        Assert.Equal(message.GetType(), back.GetType());
        Assert.Equal(message, back);
        Assert.Equal(message.ToByteArray(), bytes); // the plain protobuf encoding, readable from any language
    }

    [Fact]
    public void An_example_is_not_the_default_instance_so_the_round_trip_proves_something()
    {
        Assert.All(Examples.Values.Where(m => m is not (WorkAvailable or JobIndexBackfilled)), m => Assert.NotEmpty(m.ToByteArray()));
    }

    [Fact]
    public void An_unknown_manifest_is_refused_by_name()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerForType(typeof(ItemScored));

        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary([], "lantern.cluster.NoSuchMessage"));

        Assert.Contains("lantern.cluster.NoSuchMessage", error.Message);
    }

    private static JobSpec Spec() => new()
    {
        ModelSha256 = new string('a', 64),
        ImageSha256 = new string('b', 64),
        ImageWidth = 640,
        ImageHeight = 480,
        Preprocessing = new Preprocessing
        {
            Width = 224, Height = 224, Resize = "shorter_side_crop", ResizeShorterSide = 256, ChannelOrder = "rgb",
            Layout = "nchw", Scale = 1f / 255, Mean = { 0.485f, 0.456f, 0.406f }, Std = { 0.229f, 0.224f, 0.225f },
            Output = "logits",
        },
        Targets = new Targets { TopK = 2, Classes = { 207, 208 } },
        Score = ScoreKind.Probability,
        Seed = 42,
        Labels = { "tench", "goldfish" },
        Name = "retriever",
        ParentJobId = "ds0123abcd",
        ClassCount = 1000,
        Occlusion = new OcclusionOptions
        {
            Windows = { new Window { Height = 32, Width = 32, StrideY = 16, StrideX = 16 } },
            Fill = new Fill { Kind = Fill.Types.Kind.Constant, R = 1, G = 2, B = 3, BlurSigma = 4 },
        },
    };

    private static JobProgress Progress() => new()
    {
        JobId = "0123abcd", State = ApiJobState.Running, ItemsDone = 3, ItemsTotal = 10, Evaluations = 97, Error = "none yet",
        Name = "retriever", SubmittedUnixMs = 1_700_000_000_000, FinishedUnixMs = 1_700_000_001_000,
    };

    private static JobOutcome Outcome() => new()
    {
        Maps = { new StoredMap { TargetClass = 207, Window = 32, Height = 480, Width = 640, DataSha256 = new string('c', 64) } },
        SummaryJson = """{"job":"0123abcd"}""",
    };

    private static JobIndexRow IndexRow() => new()
    {
        JobId = "0123abcd", Phase = IndexedJobPhase.Running, Name = "retriever", Owner = "ann", Team = "vision",
        ModelSha256 = new string('a', 64), ImageSha256 = new string('b', 64), Method = "occlusion", SubmittedUnixMs = 1,
        FinishedUnixMs = 2, ItemsDone = 3, ItemsTotal = 4, Evaluations = 5, EvaluationsTotal = 6, Error = "e", Priority = 7, Version = 8,
        ParentJobId = "ds0123abcd", Dataset = "pets:2", ImagesDone = 9, ImagesTotal = 10, ImagesFailed = 1,
    };

    private static WorkItem Item() => new() { First = 64, Count = 32, Baseline = false };

    private static DatasetImage DatasetImage() => new() { ImageSha256 = new string('c', 64), FileName = "tench.png", Label = "tench" };

    private static DatasetImageOutcome DatasetOutcome() => new()
    {
        Index = 3, Image = DatasetImage(), JobId = "4567cdef", Phase = IndexedJobPhase.Done, Error = "", TopClasses = { 0, 389 },
        TopScores = { 0.9f, 0.05f }, Targets = { 0 }, Evaluations = 730, TargetScores = { 11.5f }, Pooled = { 0.25f, 1.5f },
    };

    private static WorkSpec Work() => new() { JobId = "0123abcd", Spec = Spec(), Targets = { 207, 208 } };

    private static readonly IReadOnlyDictionary<string, IMessage> Examples = new IMessage[]
    {
        new StartJob
        {
            JobId = "0123abcd", Spec = Spec(), SubmittedUnixMs = 1_700_000_000_000,
            Reuse = new ReusedResult
            {
                SourceJobId = "4567cdef", SourceVisible = true, Outcome = Outcome(), Baseline = { 0.1f, 0.9f }, Targets = { 1 },
                SourceEvaluations = 226, SourceFinishedUnixMs = 1_600_000_000_000,
            },
        },
        new StartDatasetJob
        {
            JobId = "ds0123abcd", Template = Spec(), Images = { DatasetImage() }, Dataset = "pets:2", SubmittedUnixMs = 1_700_000_000_000,
        },
        new DatasetJobResultReply { Progress = Progress(), Template = Spec(), Images = { DatasetOutcome() } },
        new DatasetJobAccepted { Template = Spec(), Images = { DatasetImage() }, Dataset = "pets:2", SubmittedUnixMs = 1_700_000_000_000 },
        new DatasetImageFinished { Outcome = DatasetOutcome() },
        new DatasetJobFinished { FinishedUnixMs = 1_700_000_001_000 },
        new DatasetJobCancelled { FinishedUnixMs = 1_700_000_001_000 },
        new DatasetJobDeleted { DeletedUnixMs = 1_700_000_002_000 },
        new GetJobStatus { JobId = "0123abcd" },
        new GetJobResult { JobId = "0123abcd" },
        new Lantern.Contracts.Messages.CancelJob { JobId = "0123abcd" },
        new ScoreWorkItem { JobId = "0123abcd", Item = Item(), Scores = { 0.5f, -1.25f }, Worker = "node-1", Error = "oom", ResultStamp = 639_000_000_000_000_001 },
        new JobStatusResult { Progress = Progress() },
        new JobResultReply
        {
            Progress = Progress(), Outcome = Outcome(), Spec = Spec(), Baseline = { 0.1f, 0.9f }, Targets = { 1 },
        },
        new JobRejected { JobId = "0123abcd", Reason = "no job with id '0123abcd'" },
        new JobAccepted { Spec = Spec(), SubmittedUnixMs = 1_700_000_000_000, WorkItemSize = 32 },
        new BaselineScored { Scores = { 0.1f, 0.9f, float.NegativeInfinity }, Targets = { 1, 0 }, FirstItemUnixMs = 1_700_000_000_500 },
        new ItemScored { First = 64, Count = 2, Scores = { 1f, 2f, 3f, 4f }, Worker = "node-2" },
        new SamplingStopped { SamplesUsed = 400 },
        new OcclusionRefined { Step = 1, Runs = { 12, 3, 40, 7 } },
        new PlanExtended { Step = 2, Runs = { 12, 3, 40, 7 } },
        new JobSnapshot
        {
            Phase = 2, Spec = Spec(), SubmittedUnixMs = 1_700_000_000_000, FirstItemUnixMs = 1_700_000_000_500, WorkItemSize = 32,
            PerturbationCount = 100, PerturbationsUsed = 100, Targets = { 207 }, Baseline = { 0.5f }, TargetScores = { 0.25f },
            ItemMaps = { 1f }, ItemsDone = Google.Protobuf.ByteString.CopyFrom(5), Evaluations = 33, Workers = { "node-1" },
            Outcome = Outcome(), Error = "none", PlanSteps = { new PlanExtended { Step = 0, Runs = { 0, 9 } } }, ReusedFrom = "4567cdef",
        },
        new IndexJob { Row = IndexRow() },
        new JobIndexAck { JobId = "0123abcd", Version = 12 },
        new RemoveIndexedJob { JobId = "0123abcd" },
        new QueryJobIndex
        {
            Viewer = new IndexViewer { User = "ann", Team = "vision" }, PageSize = 10, PageToken = "MTow", Phases = { IndexedJobPhase.Done },
            Owner = "ann", Team = "vision", ModelSha256 = new string('a', 64), SubmittedAfterUnixMs = 1, SubmittedBeforeUnixMs = 2,
            ParentJobId = "ds0123abcd",
        },
        new JobIndexPage { Rows = { IndexRow() }, NextPageToken = "MTow" },
        new JobIndexUpdated { Row = IndexRow() },
        new JobIndexRemoved { JobId = "0123abcd" },
        new JobIndexBackfilled(),
        new JobIndexSnapshot { Rows = { IndexRow() }, Backfilled = true },
        new WorkerLeaving { HeldLeaseIds = { 7, 9 } },
        new FetchArtifact { Sha256 = new string('a', 64), Offset = 98_304, Length = 98_304 },
        new ArtifactChunk
        {
            Sha256 = new string('a', 64), Found = true, TotalSize = 200_000, Offset = 98_304,
            Data = Google.Protobuf.ByteString.CopyFrom(1, 2, 3),
        },
        new JobCompleted { Outcome = Outcome(), FinishedUnixMs = 1_700_000_009_000 },
        new JobFailed { Reason = "a worker returned 3 scores", FinishedUnixMs = 1_700_000_009_000 },
        new JobCancelled { FinishedUnixMs = 1_700_000_009_000 },
        new JobReused
        {
            SourceJobId = "4567cdef", Outcome = Outcome(), Baseline = { 0.1f, 0.9f }, Targets = { 1 }, FinishedUnixMs = 1_700_000_000_020,
        },
        new JobDeleted { DeletedUnixMs = 1_700_000_010_000 },
        new Lantern.Contracts.Messages.DeleteJob { JobId = "0123abcd" },
        new JobDeletedReply { JobId = "0123abcd" },
        new OfferWork { Work = Work(), Items = { Item(), new WorkItem { Baseline = true } }, ResultsSeen = 639_000_000_000_000_001 },
        new WithdrawJob { JobId = "0123abcd" },
        new RequestWork { Capacity = 4 },
        new WorkLeased { LeaseId = 17, Work = Work(), Item = Item() },
        new WorkCompleted { LeaseId = 17, JobId = "0123abcd", Item = Item(), Scores = { 0.25f }, Worker = "node-3" },
        new WorkFailed { LeaseId = 17, JobId = "0123abcd", Item = Item(), Reason = "CUDA out of memory" },
        new WorkAvailable(),
        new LeasesWithdrawn { JobId = "0123abcd", LeaseIds = { 17, 18 } },
    }.ToDictionary(m => m.Descriptor.FullName);
}
