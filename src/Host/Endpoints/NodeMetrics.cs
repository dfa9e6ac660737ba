using Akka.Actor;
using Akka.Cluster;
using Lantern.Contracts.Cluster;
using Lantern.Coordinator.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Lantern.Host.Endpoints;

/// <summary>
/// One Prometheus registry per node (prometheus-net's static default registry would mix the nodes that tests start in
/// one process). The roles' metrics register in it; the cluster view is read from Akka on each scrape.
/// </summary>
public static class NodeMetrics
{
    public static IServiceCollection AddNodeMetrics(this IServiceCollection services) =>
        services
            .AddSingleton(provider =>
            {
                var registry = Metrics.NewCustomRegistry();
                var members = Metrics.WithCustomRegistry(registry).CreateGauge("lantern_cluster_members",
                    "Cluster members as this node sees them, by role and status (unreachable ones counted under status unreachable)",
                    new GaugeConfiguration { LabelNames = ["role", "status"] });
                registry.AddBeforeCollectCallback(() => CountMembers(provider.GetService<ActorSystem>(), members));
                return registry;
            })
            .AddCoordinatorServices();

    private static void CountMembers(ActorSystem? system, Gauge members)
    {
        if (system is null || system.WhenTerminated.IsCompleted) return;
        var state = Cluster.Get(system).State;
        var counts = new Dictionary<(string Role, string Status), int>();
        foreach (var role in ClusterRoles.All)
        foreach (var status in (string[])["joining", "up", "leaving", "exiting", "down", "removed", "weaklyup", "unreachable"])
            counts[(role, status)] = 0;
        foreach (var member in state.Members)
        {
            var status = state.Unreachable.Contains(member) ? "unreachable" : member.Status.ToString().ToLowerInvariant();
            foreach (var role in member.Roles.Where(ClusterRoles.All.Contains))
                counts[(role, status)] = counts.GetValueOrDefault((role, status)) + 1;
        }
        foreach (var ((role, status), count) in counts) members.WithLabels(role, status).Set(count);
    }
}
