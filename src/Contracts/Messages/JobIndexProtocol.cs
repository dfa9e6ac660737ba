namespace Lantern.Contracts.Messages;

/// <summary>Messages to and from the job index singleton, and its persisted events.</summary>
public interface IJobIndexMessage : ILanternMessage;

public sealed partial class IndexJob : IJobIndexMessage;
public sealed partial class JobIndexAck : IJobIndexMessage;
public sealed partial class RemoveIndexedJob : IJobIndexMessage;
public sealed partial class QueryJobIndex : IJobIndexMessage;
public sealed partial class JobIndexPage : IJobIndexMessage;
public sealed partial class JobIndexUpdated : IJobIndexMessage;
public sealed partial class JobIndexRemoved : IJobIndexMessage;
public sealed partial class JobIndexBackfilled : IJobIndexMessage;
public sealed partial class JobIndexSnapshot : IJobIndexMessage;
