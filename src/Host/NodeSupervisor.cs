using Akka.Actor;
using Lantern.Contracts.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Lantern.Host;

/// <summary>
/// Runs a node until it is stopped. A node without the coordinator role (a worker, a gateway) that the cluster downs does
/// not exit: with every coordinator gone, the split-brain resolver downs the side without the oldest coordinator, which
/// is then every other node. Such a node builds a fresh node with the same options (a new ActorSystem incarnation: Akka
/// never lets a downed incarnation back in) and joins again, by whatever means it found the cluster the first time, so a
/// worker process outlives a coordinator crash and resumes pulling once a coordinator is back.
/// </summary>
public static class NodeSupervisor
{
    /// <param name="started">Called with each incarnation once it serves (the first and every rejoin).</param>
    /// <param name="log">Where the line saying that the node rejoins goes.</param>
    public static async Task RunAsync(NodeOptions options, Action<WebApplication> started, TextWriter log,
        CancellationToken cancellationToken)
    {
        for (var incarnation = 1; ; incarnation++)
        {
            string? reason;
            var app = LanternNode.Build(options);
            await using (app)
            {
                await app.StartAsync(cancellationToken);
                started(app);
                await app.WaitForShutdownAsync(cancellationToken);
                reason = cancellationToken.IsCancellationRequested ? null
                    : RejoinReason(options, app.Services.GetRequiredService<ActorSystem>());
            }
            if (reason is null) return;
            await log.WriteLineAsync($"Lantern node incarnation {incarnation} was {reason}; starting incarnation " +
                $"{incarnation + 1} to rejoin the cluster when a coordinator is reachable");
        }
    }

    /// <summary>Why a node that stopped should rejoin rather than exit, or null: it was stopped on purpose, or it is a coordinator.</summary>
    public static string? RejoinReason(NodeOptions options, ActorSystem system)
    {
        // A coordinator that was downed lost to an older one (or to a partition); its process exits and the orchestrator
        // restarts it, as before. A node asked to leave leaves.
        if (options.Has(ClusterRoles.Coordinator)) return null;
        return CoordinatedShutdown.Get(system).ShutdownReason switch
        {
            CoordinatedShutdown.ClusterDowningReason => "downed by the cluster (no coordinator reachable)",
            CoordinatedShutdown.ClusterJoinUnsuccessfulReason => "unable to join the cluster",
            _ => null,
        };
    }
}
