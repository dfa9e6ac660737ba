using System.CommandLine;
using Lantern.Contracts.Cluster;
using Lantern.Host;
using Lantern.Worker.Hosting;
using Microsoft.Extensions.Hosting;

namespace Lantern.Cli.Commands;

/// <summary><c>lantern serve</c>: a long-running node (gRPC gateway and cluster member) for compose or Kubernetes.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var node = new NodeSettings();
        var roles = new Option<string>("--roles")
        {
            DefaultValueFactory = _ => NodeSettings.Env("LANTERN_ROLES") ?? string.Join(',', ClusterRoles.All),
            Description = "Comma-separated roles: gateway, coordinator, worker (env LANTERN_ROLES)",
        };
        var host = new Option<string>("--host") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_HOST") ?? "127.0.0.1", Description = "gRPC listen address (env LANTERN_HOST)" };
        var port = new Option<int>("--port") { DefaultValueFactory = _ => int.TryParse(NodeSettings.Env("LANTERN_PORT"), out var p) ? p : 5000, Description = "gRPC port (env LANTERN_PORT)" };
        var clusterHost = new Option<string>("--cluster-host") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_CLUSTER_HOST") ?? "127.0.0.1", Description = "Address other nodes reach this one on (env LANTERN_CLUSTER_HOST)" };
        var clusterPort = new Option<int>("--cluster-port") { DefaultValueFactory = _ => int.TryParse(NodeSettings.Env("LANTERN_CLUSTER_PORT"), out var p) ? p : 0, Description = "Akka.Remote port; 0 picks a free one (env LANTERN_CLUSTER_PORT)" };
        var seeds = new Option<string?>("--seeds") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_SEEDS"), Description = "Comma-separated seed nodes, e.g. akka.tcp://lantern@10.0.0.5:4053; none: this node forms a cluster by itself (env LANTERN_SEEDS)" };
        var cacheDir = new Option<string?>("--cache-dir") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_CACHE_DIR"), Description = "Worker nodes: where fetched artifacts are cached (env LANTERN_CACHE_DIR; default ~/.local/share/lantern/artifact-cache)" };
        var command = new Command("serve", "Run a Lantern node until stopped");
        command.Options.Add(cacheDir);
        command.Options.Add(clusterHost);
        command.Options.Add(clusterPort);
        command.Options.Add(seeds);
        node.AddTo(command);
        command.Options.Add(roles);
        command.Options.Add(host);
        command.Options.Add(port);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var selected = parsed.GetValue(roles)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var unknown = selected.Except(ClusterRoles.All).ToList();
            if (unknown.Count > 0)
            {
                Console.Error.WriteLine($"error: unknown role(s) {string.Join(", ", unknown)}; use gateway, coordinator, worker");
                return 2;
            }
            WorkerOptions worker;
            try
            {
                worker = node.Worker(parsed);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            var options = new NodeOptions
            {
                Roles = selected, DatabasePath = parsed.GetValue(node.Database)!,
                PostgresConnectionString = parsed.GetValue(node.Postgres), GrpcHost = parsed.GetValue(host)!,
                GrpcPort = parsed.GetValue(port), Worker = worker,
                ClusterHost = parsed.GetValue(clusterHost)!, ClusterPort = parsed.GetValue(clusterPort),
                SeedNodes = parsed.GetValue(seeds)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [],
                CacheDirectory = parsed.GetValue(cacheDir) ?? new NodeOptions().CacheDirectory,
            };
            // A worker or gateway downed when every coordinator is gone starts afresh and rejoins, in this process.
            await NodeSupervisor.RunAsync(options, app => Console.WriteLine(
                $"Lantern node ({string.Join(", ", selected)}) at {LanternNode.ClusterAddress(app)} serving gRPC on {LanternNode.GrpcAddress(app)}; Ctrl+C stops it"),
                Console.Out, cancellationToken);
            return 0;
        });
        return command;
    }
}
