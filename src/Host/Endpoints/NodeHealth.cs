using Akka.Actor;
using Akka.Cluster;
using Lantern.Contracts.Cluster;
using Lantern.Storage;
using Lantern.Worker.Inference;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Lantern.Host.Endpoints;

/// <summary>
/// Health checks behind <c>/readyz</c> and <c>grpc.health.v1.Health</c>: this node is Up in the cluster, and each of its
/// roles is ready (a worker has its execution provider loaded; a gateway or coordinator sees an Up coordinator and
/// reaches the database). <c>/healthz</c> runs none of them: the process answering is the liveness signal.
/// </summary>
public static class NodeHealth
{
    public const string ReadyTag = "ready";

    public static IServiceCollection AddNodeHealth(this IServiceCollection services, NodeOptions options)
    {
        var checks = services.AddHealthChecks().AddCheck<MemberUpCheck>("cluster-member", tags: [ReadyTag]);
        if (options.Has(ClusterRoles.Worker))
            checks.AddTypeActivatedCheck<WorkerReadyCheck>("worker", null, [ReadyTag], Math.Max(1, options.Worker.Workers));
        if (options.UsesDatabase)
        {
            checks.AddCheck<CoordinatorUpCheck>("coordinator-reachable", tags: [ReadyTag]);
            checks.AddCheck<DatabaseCheck>("database", tags: [ReadyTag]);
        }
        return services;
    }

    /// <summary>The node's cluster extension, or null while the actor system is not running.</summary>
    private static Akka.Cluster.Cluster? ClusterOf(ActorSystem system) =>
        system.WhenTerminated.IsCompleted ? null : Akka.Cluster.Cluster.Get(system);

    private sealed class MemberUpCheck(ActorSystem system) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var cluster = ClusterOf(system);
            if (cluster is null || cluster.IsTerminated)
                return Task.FromResult(HealthCheckResult.Unhealthy("this node has left the cluster"));
            var status = cluster.SelfMember.Status;
            return Task.FromResult(status == MemberStatus.Up
                ? HealthCheckResult.Healthy($"{cluster.SelfAddress} is Up")
                : HealthCheckResult.Unhealthy($"{cluster.SelfAddress} is {status}, not Up"));
        }
    }

    private sealed class WorkerReadyCheck(WorkerMetrics metrics, int workers) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var loaded = metrics.ProvidersLoaded;
            return Task.FromResult(loaded >= workers
                ? HealthCheckResult.Healthy($"{loaded} worker(s) with their execution provider loaded")
                : HealthCheckResult.Unhealthy($"{loaded} of {workers} worker(s) have their execution provider loaded"));
        }
    }

    private sealed class CoordinatorUpCheck(ActorSystem system) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var state = ClusterOf(system)?.State;
            var up = state?.Members.Count(m => m.Status == MemberStatus.Up && m.HasRole(ClusterRoles.Coordinator)
                && !state.Unreachable.Contains(m)) ?? 0;
            return Task.FromResult(up > 0
                ? HealthCheckResult.Healthy($"{up} coordinator(s) Up and reachable")
                : HealthCheckResult.Unhealthy("no coordinator is Up and reachable"));
        }
    }

    private sealed class DatabaseCheck(IArtifactStore store) : IHealthCheck
    {
        private static readonly string NoSuchHash = new('0', 64);

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await store.ExistsAsync(NoSuchHash, cancellationToken); // one real query
                return HealthCheckResult.Healthy("the database answers");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy($"the database does not answer: {e.Message}");
            }
        }
    }
}
