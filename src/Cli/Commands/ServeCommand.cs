using System.CommandLine;
using Lantern.Contracts.Cluster;
using Lantern.Coordinator.Dispatch;
using Lantern.Coordinator.Hosting;
using Lantern.Gateway.Hosting;
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
        var formation = new FormationSettings();
        var clusterTls = new ClusterTlsSettings();
        var roles = new Option<string>("--roles")
        {
            DefaultValueFactory = _ => NodeSettings.Env("LANTERN_ROLES") ?? string.Join(',', ClusterRoles.All),
            Description = "Comma-separated roles: gateway, coordinator, worker (env LANTERN_ROLES)",
        };
        var host = new Option<string>("--host") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_HOST") ?? "127.0.0.1", Description = "gRPC listen address (env LANTERN_HOST)" };
        var port = new Option<int>("--port") { DefaultValueFactory = _ => int.TryParse(NodeSettings.Env("LANTERN_PORT"), out var p) ? p : 5000, Description = "gRPC port (env LANTERN_PORT)" };
        var httpPort = new Option<int?>("--http-port")
        {
            DefaultValueFactory = _ => int.TryParse(NodeSettings.Env("LANTERN_HTTP_PORT"), out var p) ? p : 0,
            Description = "HTTP/1.1 port for /metrics, /healthz, /readyz; 0 picks a free one (env LANTERN_HTTP_PORT)",
        };
        var clusterHost = new Option<string>("--cluster-host") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_CLUSTER_HOST") ?? "127.0.0.1", Description = "Address other nodes reach this one on; auto: this machine's first non-loopback IPv4 address, as in a container (env LANTERN_CLUSTER_HOST)" };
        var clusterPort = new Option<int>("--cluster-port") { DefaultValueFactory = _ => int.TryParse(NodeSettings.Env("LANTERN_CLUSTER_PORT"), out var p) ? p : 0, Description = "Akka.Remote port; 0 picks a free one (env LANTERN_CLUSTER_PORT)" };
        var seeds = new Option<string?>("--seeds") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_SEEDS"), Description = "Comma-separated seed nodes, e.g. akka.tcp://lantern@10.0.0.5:4053; none: this node forms a cluster by itself (env LANTERN_SEEDS)" };
        var cacheDir = new Option<string?>("--cache-dir") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_CACHE_DIR"), Description = "Worker nodes: where fetched artifacts are cached (env LANTERN_CACHE_DIR; default ~/.local/share/lantern/artifact-cache)" };
        var userWeights = new Option<string?>("--user-weights") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_USER_WEIGHTS"), Description = "Fair-share weights of users within their team, e.g. alice=2,bob=1; others weigh 1 (env LANTERN_USER_WEIGHTS)" };
        var teamWeights = new Option<string?>("--team-weights") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_TEAM_WEIGHTS"), Description = "Fair-share weights of teams, e.g. vision=3,nlp=1; others weigh 1 (env LANTERN_TEAM_WEIGHTS)" };
        var retention = new Option<string?>("--retention")
        {
            DefaultValueFactory = _ => NodeSettings.Env("LANTERN_RETENTION"),
            Description = "Delete finished jobs older than this (e.g. 30d, 12h), and uploads no remaining job or registered model uses; default: keep everything (env LANTERN_RETENTION)",
        };
        var tlsCert = new Option<string?>("--tls-cert") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_TLS_CERT"), Description = "PEM certificate for TLS on the gRPC port (https://), e.g. node.pem from `lantern certs`; with --tls-key (env LANTERN_TLS_CERT)" };
        var tlsKey = new Option<string?>("--tls-key") { DefaultValueFactory = _ => NodeSettings.Env("LANTERN_TLS_KEY"), Description = "PEM private key of --tls-cert (env LANTERN_TLS_KEY)" };
        var command = new Command("serve", "Run a Lantern node until stopped");
        command.Options.Add(retention);
        command.Options.Add(tlsCert);
        command.Options.Add(tlsKey);
        command.Options.Add(userWeights);
        command.Options.Add(teamWeights);
        var noAuth = new Option<bool>("--no-auth")
        {
            DefaultValueFactory = _ => NodeSettings.Env("LANTERN_NO_AUTH") is "1" or "true",
            Description = "Serve without API keys: anyone who reaches the port sees and runs everything; for one person on localhost (env LANTERN_NO_AUTH=1)",
        };
        command.Options.Add(noAuth);
        command.Options.Add(cacheDir);
        command.Options.Add(clusterHost);
        command.Options.Add(clusterPort);
        command.Options.Add(seeds);
        node.AddTo(command);
        formation.AddTo(command);
        clusterTls.AddTo(command);
        command.Options.Add(roles);
        command.Options.Add(host);
        command.Options.Add(port);
        command.Options.Add(httpPort);
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
            FairShareWeights weights;
            TimeSpan? keepFor;
            Lantern.Host.Formation.BootstrapOptions? bootstrap;
            Lantern.Host.Security.ClusterTlsOptions? tls;
            Lantern.Host.Security.GrpcTlsOptions? grpcTls = null;
            var seedNodes = parsed.GetValue(seeds)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
            try
            {
                worker = node.Worker(parsed);
                weights = new FairShareWeights
                {
                    Users = FairShareWeights.Parse(parsed.GetValue(userWeights), "--user-weights"),
                    Teams = FairShareWeights.Parse(parsed.GetValue(teamWeights), "--team-weights"),
                };
                bootstrap = formation.Bootstrap(parsed, seedNodes.Length > 0);
                keepFor = parsed.GetValue(retention) is { Length: > 0 } text ? DurationText.Parse(text, "--retention") : null;
                tls = clusterTls.Tls(parsed);
                var (cert, key) = (parsed.GetValue(tlsCert), parsed.GetValue(tlsKey));
                if (cert is not null && key is not null)
                    grpcTls = new Lantern.Host.Security.GrpcTlsOptions { CertificatePath = cert, KeyPath = key };
                else if (cert is not null || key is not null)
                    throw new ArgumentException("--tls-cert and --tls-key go together");
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
                GrpcPort = parsed.GetValue(port), GrpcTls = grpcTls, HttpPort = parsed.GetValue(httpPort), Worker = worker,
                Coordinator = new CoordinatorOptions
                {
                    FairShare = weights, Retention = keepFor, EvalBatch = Math.Max(0, parsed.GetValue(node.Batch)),
                },
                ClusterHost = ClusterHost(parsed.GetValue(clusterHost)!), ClusterPort = parsed.GetValue(clusterPort),
                SeedNodes = seedNodes, Bootstrap = bootstrap, ClusterTls = tls,
                CacheDirectory = parsed.GetValue(cacheDir) ?? new NodeOptions().CacheDirectory,
                Gateway = new GatewayOptions { RequireApiKey = !parsed.GetValue(noAuth) },
                WarnWhenOpen = true,
            };
            // A worker or gateway downed when every coordinator is gone starts afresh and rejoins, in this process.
            await NodeSupervisor.RunAsync(options, app => Console.WriteLine(
                $"Lantern node ({string.Join(", ", selected)}) at {LanternNode.ClusterAddress(app)} serving gRPC on {LanternNode.GrpcAddress(app)}; HTTP (/metrics, /readyz) on {LanternNode.HttpAddress(app)}; Ctrl+C stops it"),
                Console.Out, cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary>"auto": the first up, non-loopback IPv4 address (a scaled compose service has no name of its own to give).</summary>
    private static string ClusterHost(string configured) =>
        configured != "auto" ? configured
        : System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
              .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
              .SelectMany(n => n.GetIPProperties().UnicastAddresses)
              .Select(a => a.Address)
              .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(a))
              ?.ToString() ?? "127.0.0.1";
}
