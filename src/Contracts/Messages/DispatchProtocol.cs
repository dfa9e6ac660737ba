namespace Lantern.Contracts.Messages;

public sealed partial class OfferWork : IDispatchMessage;
public sealed partial class WithdrawJob : IDispatchMessage;
public sealed partial class RequestWork : IDispatchMessage;
public sealed partial class WorkerLeaving : IDispatchMessage;
public sealed partial class WorkLeased : IDispatchMessage;
public sealed partial class WorkCompleted : IDispatchMessage;
public sealed partial class WorkFailed : IDispatchMessage;
public sealed partial class WorkAvailable : IDispatchMessage;
public sealed partial class LeasesWithdrawn : IDispatchMessage;

public sealed partial class FetchArtifact : ILanternMessage;
public sealed partial class ArtifactChunk : ILanternMessage;
