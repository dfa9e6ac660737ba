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

    /// <summary>TLS on the gRPC port (https://); null serves h2c, for a TLS-terminating ingress or localhost.</summary>
    public Security.GrpcTlsOptions? GrpcTls { get; init; }

    /// <summary>
    /// HTTP/1.1 port for /metrics, /healthz and /readyz (Prometheus and kubelet probes do not speak h2c); 0 picks a free
    /// one (see <see cref="LanternNode.HttpAddress"/>), null opens none (the paths still answer on the gRPC port).
    /// </summary>
    public int? HttpPort { get; init; }

    /// <summary>HTTP/1.1 listen address; null listens where gRPC does.</summary>
    public string? HttpHost { get; init; }

    public string SystemName { get; init; } = "lantern";
    public string ClusterHost { get; init; } = "127.0.0.1";

    /// <summary>Akka.Remote port; 0 picks a free one (fine for a node that seeds itself).</summary>
    public int ClusterPort { get; init; }

    /// <summary>
    /// Mutual TLS on the cluster port: peers must present a certificate signed by the cluster CA. Null (the default,
    /// and the laptop's one-process cluster) leaves Akka.Remote on plain TCP.
    /// </summary>
    public Security.ClusterTlsOptions? ClusterTls { get; init; }

    /// <summary>Seed node addresses (akka.tcp://lantern@host:port); none means this node forms a cluster by itself.</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];

    /// <summary>Cluster Bootstrap instead of seed nodes (Akka.Management + discovery); null uses <see cref="SeedNodes"/>.</summary>
    public Formation.BootstrapOptions? Bootstrap { get; init; }

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

    /// <summary>Log a loud warning when the gateway runs without API keys (<c>serve --no-auth</c>; not the local one-process run).</summary>
    public bool WarnWhenOpen { get; init; }

    public bool Has(string role) => Roles.Contains(role);
}
