using Akka;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Lantern.Contracts.Cluster;
using Lantern.Storage;
using Lantern.Worker.Actors;
using Lantern.Worker.Inference;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lantern.Worker.Hosting;

public static class WorkerHostingExtensions
{
    /// <summary>
    /// The worker role: <see cref="WorkerOptions.Workers"/> actors (e.g. one per GPU), each with its own sessions,
    /// pulling work from the dispatcher singleton.
    /// </summary>
    public static AkkaConfigurationBuilder AddWorkerRole(this AkkaConfigurationBuilder builder, WorkerOptions options) =>
        builder.WithActors((system, registry, resolver) =>
        {
            var address = Cluster.Get(system).SelfAddress.ToString();
            for (var i = 0; i < Math.Max(1, options.Workers); i++)
            {
                var evaluator = new WorkEvaluator(resolver.GetService<IArtifactStore>(), options,
                    resolver.GetService<ILogger<WorkEvaluator>>(), resolver.GetService<WorkerMetrics>(), $"lantern-infer-{i}");
                resolver.GetService<WorkerMetrics>().ProviderLoaded(i, evaluator.ProviderDescription);
                resolver.GetService<WorkEvaluators>().Add(evaluator);
                var worker = system.ActorOf(
                    WorkerActor.PropsFor(registry.Get<DispatcherKey>(), evaluator, options, $"{address}/worker-{i}"), $"worker-{i}");
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, $"return-leases-{i}",
                    async () =>
                    {
                        try
                        {
                            await worker.Ask<Done>(WorkerActor.Leave.Instance, TimeSpan.FromSeconds(5));
                        }
                        catch (AskTimeoutException)
                        {
                            // the dispatcher still re-issues on the node's removal or the lease timeout
                        }
                        return Done.Instance;
                    });
            }
        });

    public static IServiceCollection AddWorkerServices(this IServiceCollection services, WorkerOptions options) =>
        services.AddSingleton(options).AddSingleton<WorkerMetrics>().AddSingleton<WorkEvaluators>();
}

/// <summary>The node's evaluators, disposed (sessions released) with the host.</summary>
public sealed class WorkEvaluators : IDisposable
{
    private readonly List<WorkEvaluator> _evaluators = [];

    public void Add(WorkEvaluator evaluator)
    {
        lock (_evaluators) _evaluators.Add(evaluator);
    }

    /// <summary>Which execution provider each worker runs inference on (for a one-line report; empty before workers start).</summary>
    public IReadOnlyList<string> Providers
    {
        get
        {
            lock (_evaluators) return [.. _evaluators.Select(e => e.ProviderDescription).Distinct()];
        }
    }

    public void Dispose()
    {
        lock (_evaluators) _evaluators.ForEach(e => e.Dispose());
    }
}
