using Akka.Cluster;
using Akka.Discovery.Config.Hosting;
using Akka.Discovery.KubernetesApi;
using Akka.Hosting;
using Akka.Actor;
using Akka.Management.Cluster.Bootstrap;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json;

namespace Lantern.Host.Formation;

/// <summary>
/// How a node becomes a cluster member: through the seed nodes it was given, by joining itself when it has none (the
/// one-process mode), or through Akka.Management Cluster Bootstrap: contact points found by discovery (a static list
/// locally and in compose, the Kubernetes API in a cluster) agree on who forms the cluster, and everyone else joins it.
/// Contact points are the nodes' HTTP/1.1 ports.
/// </summary>
public static class ClusterFormation
{
    public static AkkaConfigurationBuilder WithFormation(this AkkaConfigurationBuilder akka, NodeOptions options)
    {
        if (options.Bootstrap is { } bootstrap)
        {
            if (options.SeedNodes.Count > 0)
                throw new ArgumentException("give seed nodes or a discovery method, not both");
            return akka.WithBootstrap(bootstrap);
        }
        if (options.SeedNodes.Count == 0)
        {
            akka.AddStartup((system, _) =>
            {
                var cluster = Cluster.Get(system);
                cluster.Join(cluster.SelfAddress);
            });
        }
        return akka;
    }

    private static AkkaConfigurationBuilder WithBootstrap(this AkkaConfigurationBuilder akka, BootstrapOptions bootstrap)
    {
        switch (bootstrap.Discovery)
        {
            case DiscoveryMethod.Config:
                if (bootstrap.ContactPoints.Count == 0)
                    throw new ArgumentException("config discovery needs at least one contact point (host:http-port)");
                akka.WithConfigDiscovery(discovery => discovery.Services =
                [
                    new Service { Name = bootstrap.ServiceName, Endpoints = [.. bootstrap.ContactPoints] },
                ]);
                break;
            case DiscoveryMethod.Kubernetes:
                akka.WithKubernetesDiscovery(discovery =>
                {
                    discovery.PodLabelSelector = bootstrap.PodLabelSelector;
                    if (bootstrap.PodNamespace is { } ns) discovery.PodNamespace = ns;
                });
                break;
        }
        // Started by UseBootstrapContactPoint once the HTTP port is bound: contact points are probed there.
        return akka.WithClusterBootstrap(options =>
        {
            var discovery = options.ContactPointDiscovery;
            discovery.ServiceName = bootstrap.ServiceName;
            discovery.RequiredContactPointsNr = bootstrap.RequiredContactPoints;
            if (bootstrap.Discovery == DiscoveryMethod.Kubernetes) discovery.PortName = bootstrap.PortName;
            // A static list has nothing to settle; pods appearing in the Kubernetes API do.
            discovery.StableMargin = bootstrap.Discovery == DiscoveryMethod.Config ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5);
            discovery.Interval = TimeSpan.FromSeconds(1);
            // Probe whatever port a config list or a named pod port gives.
            options.ContactPoint.FilterOnFallbackPort = false;
            options.ContactPoint.ProbeInterval = TimeSpan.FromSeconds(1);
        }, autoStart: false);
    }

    /// <summary>
    /// Serves this node's contact point (<c>GET /bootstrap/seed-nodes</c>, the Akka.Management contract) on the node's
    /// own HTTP/1.1 port and starts Cluster Bootstrap once that port is bound.
    /// </summary>
    /// <remarks>
    /// Akka.Management 1.5.73 would serve it on its own HTTP server (Akka.Http.Shim over Ceen.Httpd 0.9.9), but the
    /// package feed here has only Ceen.Httpd 0.9.10, whose changed <c>ListenAsync</c> makes that server fail to start
    /// (MissingMethodException). The bootstrap itself (discovery, probing, the join decision) is Akka.Management's.
    /// </remarks>
    public static WebApplication UseBootstrapContactPoint(this WebApplication app, NodeOptions options)
    {
        if (options.Bootstrap is null) return app;
        if (options.HttpPort is null) throw new ArgumentException("Cluster Bootstrap needs the HTTP port (contact points are probed there)");
        app.MapGet("/bootstrap/seed-nodes", (ActorSystem system) => Results.Content(SeedNodesJson(system), "application/json"));
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var system = app.Services.GetRequiredService<ActorSystem>();
            var http = LanternNode.HttpAddress(app)!;
            var bootstrap = ClusterBootstrap.Get(system);
            // The address other nodes discover for this one: the cluster host (what discovery lists) and the HTTP port.
            SetSelfContactPoint.Invoke(bootstrap, [new Uri($"http://{options.ClusterHost}:{http.Port}")]);
            _ = bootstrap.Start();
        });
        return app;
    }

    /// <summary>
    /// <c>ClusterBootstrap.SetSelfContactPoint</c> is internal: Akka.Management's own HTTP server calls it once bound.
    /// The version is pinned centrally and the bootstrap tests fail if it changes.
    /// </summary>
    private static readonly System.Reflection.MethodInfo SetSelfContactPoint =
        typeof(ClusterBootstrap).GetMethod("SetSelfContactPoint", System.Reflection.BindingFlags.Instance
            | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public, [typeof(Uri)])
        ?? throw new MissingMethodException(nameof(ClusterBootstrap), "SetSelfContactPoint");

    /// <summary>
    /// The contact point's answer, as Akka.Management's HttpClusterBootstrapRoutes gives it (Newtonsoft.Json, the
    /// serializer its HttpContactPointBootstrap reads with): this node and the members a newcomer may join through.
    /// </summary>
    private static string SeedNodesJson(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var self = cluster.SelfMember;
        var state = cluster.State;
        var members = self.Status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving or MemberStatus.Removed
            ? []
            : state.Members
                .Where(m => !state.Unreachable.Contains(m) && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
                .Select(m => new { Node = m.UniqueAddress.Address, NodeUid = (long)m.UniqueAddress.Uid, m.Status, m.Roles })
                .ToList();
        return JsonConvert.SerializeObject(new { SelfNode = self.UniqueAddress.Address, Nodes = members });
    }
}
