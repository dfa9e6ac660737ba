using Lantern.Contracts.Cluster;
using Lantern.Coordinator.Hosting;
using Lantern.Gateway.Hosting;
using Lantern.Worker.Hosting;
using Microsoft.Extensions.Logging;

namespace Lantern.Host;

/// <summary>Everything that makes one Lantern node: which roles it carries, where it listens, where it persists.</summary>
public sealed record NodeOptions
{
    public IReadOnlyList<string> Roles { get; init; } = ClusterRoles.All;

    /// <summary>SQLite file holding the job journal, snapshots and artifacts.</summary>
    public string DatabasePath { get; init; } = "lantern.db";

    /// <summary>
    /// Npgsql connection string of a PostgreSQL database to hold the journal, snapshots and artifacts instead of the
    /// SQLite file (<see cref="DatabasePath"/> is then unused); null keeps SQLite.
    /// </summary>
    public string? PostgresConnectionString { get; init; }

    /// <summary>Where a node without the database (a worker) caches the artifacts it fetched.</summary>
    public string CacheDirectory { get; init; } =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "lantern", "artifact-cache");

    /// <summary>Gateways and coordinators read and write the database; a node with neither fetches from coordinators.</summary>
    public bool UsesDatabase => Has(ClusterRoles.Coordinator) || Has(ClusterRoles.Gateway);

    /// <summary>gRPC listen address; port 0 picks a free port (see <see cref="LanternNode.GrpcAddress"/>).</summary>
    public string GrpcHost { get; init; } = "127.0.0.1";
    public int GrpcPort { get; init; } = 5000;

    public string SystemName { get; init; } = "lantern";
    public string ClusterHost { get; init; } = "127.0.0.1";

    /// <summary>Akka.Remote port; 0 picks a free one (fine for a node that seeds itself).</summary>
    public int ClusterPort { get; init; }

    /// <summary>Seed node addresses (akka.tcp://lantern@host:port); none means this node forms a cluster by itself.</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>Log which execution provider runs inference even below <see cref="LogLevel"/> (a served node wants the line).</summary>
    public bool LogProvider { get; init; } = true;

    /// <summary>
    /// A node inside another program (the CLI's in-process cluster): the host does not take Ctrl-C or process exit for
    /// itself, so the program can cancel its job first and decide when the node stops.
    /// </summary>
    public bool Embedded { get; init; }

    public CoordinatorOptions Coordinator { get; init; } = new();
    public WorkerOptions Worker { get; init; } = new();
    public GatewayOptions Gateway { get; init; } = new();

    public bool Has(string role) => Roles.Contains(role);
}
