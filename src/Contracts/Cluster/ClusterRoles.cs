namespace Lantern.Contracts.Cluster;

/// <summary>The roles a Lantern node can carry; a one-process cluster carries all three.</summary>
public static class ClusterRoles
{
    public const string Gateway = "gateway";
    public const string Coordinator = "coordinator";
    public const string Worker = "worker";

    public static readonly IReadOnlyList<string> All = [Gateway, Coordinator, Worker];
}

/// <summary>Actor-registry key of the job shard region (or its proxy on nodes without the coordinator role).</summary>
public sealed class JobRegionKey;

/// <summary>Actor-registry key of the dispatcher singleton's proxy.</summary>
public sealed class DispatcherKey;

/// <summary>Actor-registry key of the job index singleton's proxy.</summary>
public sealed class JobIndexKey;

/// <summary>Actor-registry key of the dataset-job shard region (or its proxy on nodes without the coordinator role).</summary>
public sealed class DatasetJobRegionKey;
