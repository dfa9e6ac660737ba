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
            KeepThreadsForTheNode(options.Workers);
            var address = Cluster.Get(system).SelfAddress.ToString();
            for (var i = 0; i < Math.Max(1, options.Workers); i++)
            {
                var evaluator = new WorkEvaluator(resolver.GetService<IArtifactStore>(), options,
                    resolver.GetService<ILogger<WorkEvaluator>>(), resolver.GetService<WorkerMetrics>(), $"{InferenceThread.NamePrefix}-{i}");
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

    /// <summary>
    /// Inference runs on the workers' own threads (<see cref="InferenceThread"/>), but a node still blocks pool threads:
    /// each worker's pipeline while it writes the next batch, and synchronous I/O (Microsoft.Data.Sqlite runs its async
    /// calls synchronously, under the journal and the artifact store). The pool starts with one thread per core and adds
    /// more only slowly once all are blocked, so it keeps these on top of one per core. When inference moved off the pool
    /// this minimum was dropped, and in the next CI run (nodes of several tests side by side in one process on 2 cores) a
    /// job listing waited 30 s for the job index; before inference moved, cluster heartbeats went out 2.6 s late.
    /// </summary>
    private static void KeepThreadsForTheNode(int workers)
    {
        ThreadPool.GetMinThreads(out var threads, out var io);
        ThreadPool.SetMinThreads(Math.Max(threads, Environment.ProcessorCount + 2 * Math.Max(1, workers)), io);
    }

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
