using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Lantern.Contracts.Cluster;
using Lantern.Coordinator.Artifacts;
using Lantern.Coordinator.DatasetJobs;
using Lantern.Coordinator.Dispatch;
using Lantern.Coordinator.Index;
using Lantern.Coordinator.Jobs;
using Lantern.Coordinator.Metrics;
using Lantern.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Lantern.Coordinator.Hosting;

public static class CoordinatorHostingExtensions
{
    /// <summary>
    /// The coordinator role: the sharded, persistent job entities and the dispatcher singleton. Jobs that were running
    /// when the cluster stopped are remembered and resume on start.
    /// </summary>
    public static AkkaConfigurationBuilder AddCoordinatorRole(this AkkaConfigurationBuilder builder, CoordinatorOptions options) =>
        builder
            .WithShardRegion<JobRegionKey>("job",
                (_, registry, resolver) => jobId => JobEntity.PropsFor(jobId,
                    // Resolved per entity, not here: the dispatcher and the index are registered after the region.
                    registry.Get<DispatcherKey>(), registry.Get<JobIndexKey>(), resolver.GetService<IArtifactStore>(), options,
                    resolver.GetService<CoordinatorMetrics>(), resolver.GetService<IMemoStore>()),
                new JobMessageExtractor(),
                RememberedOnCoordinators())
            .WithShardRegion<DatasetJobRegionKey>("dataset-job",
                (_, registry, resolver) => jobId => DatasetJobEntity.PropsFor(jobId, registry.Get<JobRegionKey>(), registry.Get<JobIndexKey>(),
                    resolver.GetService<IDatasetImagePlanner>() ?? NoDatasetImagePlanner.Instance, options),
                new JobMessageExtractor(),
                RememberedOnCoordinators())
            .WithSingleton<DispatcherKey>("dispatcher",
                (_, registry, resolver) => DispatcherActor.PropsFor(registry.Get<JobRegionKey>(), options,
                    resolver.GetService<CoordinatorMetrics>()),
                new ClusterSingletonOptions { Role = ClusterRoles.Coordinator },
                createProxyToo: true)
            .WithSingleton<JobIndexKey>(JobIndexActor.Name,
                (system, registry, resolver) => JobIndexActor.PropsFor(registry.Get<JobRegionKey>(), registry.Get<DatasetJobRegionKey>(),
                    new JobDirectory(system), options,
                    options.Retention is { } keepFor
                        ? new Retention.Retention(keepFor, resolver.GetService<IArtifactStore>(), resolver.GetService<IModelRegistry>(),
                            resolver.GetService<Storage.Users.UserStore>(), resolver.GetService<Storage.Datasets.IDatasetRegistry>())
                        : null),
                new ClusterSingletonOptions { Role = ClusterRoles.Coordinator },
                createProxyToo: true)
            .WithActors((system, _, resolver) =>
                system.ActorOf(ArtifactServerActor.PropsFor(resolver.GetService<IArtifactStore>()), ArtifactServerActor.Name));

    /// <summary>Entities on the coordinator role that are remembered, so those running when the cluster stopped resume on start.</summary>
    private static ShardOptions RememberedOnCoordinators() => new()
    {
        Role = ClusterRoles.Coordinator,
        RememberEntities = true,
        RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
        StateStoreMode = StateStoreMode.Persistence,
    };

    /// <summary>The coordinator role's services: its metrics (in the node's registry when the host registers one).</summary>
    public static IServiceCollection AddCoordinatorServices(this IServiceCollection services) =>
        services.AddSingleton(provider => new CoordinatorMetrics(provider.GetService<Prometheus.CollectorRegistry>()));

    /// <summary>Nodes without the coordinator role reach jobs through a proxy.</summary>
    public static AkkaConfigurationBuilder AddJobRegionProxy(this AkkaConfigurationBuilder builder) =>
        builder.WithShardRegionProxy<JobRegionKey>("job", ClusterRoles.Coordinator, new JobMessageExtractor())
            .WithShardRegionProxy<DatasetJobRegionKey>("dataset-job", ClusterRoles.Coordinator, new JobMessageExtractor())
            .WithSingletonProxy<JobIndexKey>(JobIndexActor.Name, new ClusterSingletonOptions { Role = ClusterRoles.Coordinator });
}
