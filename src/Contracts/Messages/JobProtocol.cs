namespace Lantern.Contracts.Messages;

// The generated protobuf classes are partial: these declarations give them the marker interfaces that drive
// shard routing and serializer binding.

public sealed partial class StartJob : IJobCommand;
public sealed partial class GetJobStatus : IJobCommand;
public sealed partial class GetJobResult : IJobCommand;
public sealed partial class CancelJob : IJobCommand;
public sealed partial class DeleteJob : IJobCommand;
public sealed partial class ScoreWorkItem : IJobCommand;

public sealed partial class JobStatusResult : ILanternMessage;
public sealed partial class JobResultReply : ILanternMessage;
public sealed partial class JobRejected : ILanternMessage;
public sealed partial class JobDeletedReply : ILanternMessage;

public sealed partial class JobAccepted : IJobEvent;
public sealed partial class BaselineScored : IJobEvent;
public sealed partial class ItemScored : IJobEvent;
public sealed partial class SamplingStopped : IJobEvent;
public sealed partial class OcclusionRefined : IJobEvent;
public sealed partial class PlanExtended : IJobEvent;
public sealed partial class JobSnapshot : ILanternMessage;
public sealed partial class JobCompleted : IJobEvent;
public sealed partial class JobFailed : IJobEvent;
public sealed partial class JobCancelled : IJobEvent;
public sealed partial class JobReused : IJobEvent;
public sealed partial class JobDeleted : IJobEvent;
