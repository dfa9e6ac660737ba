using Akka.Cluster;
using Akka.Hosting;
using Lantern.Contracts.Cluster;
using Lantern.Worker.Actors;
using Lantern.Worker.Inference;
using Microsoft.Extensions.DependencyInjection;

namespace Lantern.Worker.Hosting;

public static class WorkerHostingExtensions
{
    /// <summary>The worker role: one actor that pulls work from the dispatcher singleton and owns the node's sessions.</summary>
    public static AkkaConfigurationBuilder AddWorkerRole(this AkkaConfigurationBuilder builder, WorkerOptions options) =>
        builder.WithActors((system, registry, resolver) =>
        {
            var evaluator = resolver.GetService<WorkEvaluator>();
            var name = Cluster.Get(system).SelfAddress.ToString();
            var worker = system.ActorOf(
                WorkerActor.PropsFor(registry.Get<DispatcherKey>(), evaluator, options, name), "worker");
            registry.Register<WorkerActor>(worker);
        });

    public static IServiceCollection AddWorkerServices(this IServiceCollection services, WorkerOptions options) =>
        services.AddSingleton(options).AddSingleton<WorkEvaluator>();
}
