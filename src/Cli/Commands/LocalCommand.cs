using System.CommandLine;
using System.Globalization;
using Lantern.Cli.Local;
using Lantern.Host;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Lantern.Cli.Commands;

/// <summary>
/// <c>lantern local start|status|stop</c>: this user's background node, which <c>lantern explain</c> without --gateway
/// starts on first use and reuses (<see cref="LocalNodeLauncher"/>); <c>local run</c> is that node's own process.
/// </summary>
public static class LocalCommand
{
    public static Command Create()
    {
        var command = new Command("local", "This user's background local node, which explain without --gateway starts and reuses");
        command.Subcommands.Add(Start());
        command.Subcommands.Add(Status());
        command.Subcommands.Add(Stop());
        command.Subcommands.Add(Run());
        return command;
    }

    private static Option<double> IdleTimeout() => new("--idle-timeout")
    {
        DefaultValueFactory = _ => LocalNodeLauncher.IdleTimeoutFromEnvironment().TotalSeconds,
        Description = "Seconds without a request after which the node stops itself (env LANTERN_LOCAL_IDLE_TIMEOUT; default 600)",
    };

    private static Command Start()
    {
        var node = new NodeSettings();
        var idle = IdleTimeout();
        var command = new Command("start", "Start the local node now (explain starts it when needed), or report the one running");
        node.AddTo(command);
        command.Options.Add(idle);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            NodeOptions options;
            try
            {
                options = Options(node, parsed);
            }
            catch (ArgumentException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 2;
            }
            using var lease = await LocalNodeLauncher.AcquireAsync(options, TimeSpan.FromSeconds(parsed.GetValue(idle)), cancellationToken);
            Console.WriteLine($"{(lease.Started ? "started" : "running")}: {Describe(lease.Record)}");
            return 0;
        });
        return command;
    }

    private static Command Status()
    {
        var command = new Command("status", "Say whether the local node runs, its pid, address and build (exit 0 if it runs, 3 if not)");
        command.SetAction(_ =>
        {
            var record = LocalNodeRecord.Read(LocalNodeRecord.StateDirectory());
            if (record is null || !LocalNodeLauncher.IsNode(record.Pid))
            {
                Console.WriteLine("no local node is running");
                return 3;
            }
            Console.WriteLine($"running: {Describe(record)}");
            if (record.Build != LocalNodeRecord.CurrentBuild()) Console.WriteLine("  (another build: the next explain replaces it)");
            return 0;
        });
        return command;
    }

    private static Command Stop()
    {
        var command = new Command("stop", "Stop the local node (its unfinished jobs resume when a node starts on the same database)");
        command.SetAction(async (_, cancellationToken) =>
        {
            var record = LocalNodeRecord.Read(LocalNodeRecord.StateDirectory());
            if (record is null || !LocalNodeLauncher.IsNode(record.Pid))
            {
                Console.WriteLine("no local node is running");
                return 0;
            }
            await LocalNodeLauncher.StopAsync(record.Pid, cancellationToken);
            Console.WriteLine($"stopped the local node (pid {record.Pid})");
            return 0;
        });
        return command;
    }

    /// <summary>The node's own process, started by <see cref="LocalNodeLauncher"/>; hidden from help.</summary>
    private static Command Run()
    {
        var node = new NodeSettings();
        var idle = IdleTimeout();
        var command = new Command("run", "Run the local node in this process (what explain starts in the background)") { Hidden = true };
        node.AddTo(command);
        command.Options.Add(idle);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var options = Options(node, parsed) with
            {
                // The same node as the in-process one, with its log in node.log: warnings and the provider line.
                LogLevel = LogLevel.Warning, LogProvider = true,
            };
            await LocalNodeHost.RunAsync(options, LocalNodeRecord.StateDirectory(), TimeSpan.FromSeconds(parsed.GetValue(idle)), Console.Out, cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary>The node an in-process explain would start with these settings (all roles, loopback, a free port, no keys).</summary>
    public static NodeOptions Options(NodeSettings node, ParseResult parsed) => new()
    {
        DatabasePath = Path.GetFullPath(parsed.GetValue(node.Database)!),
        PostgresConnectionString = parsed.GetValue(node.Postgres),
        GrpcPort = 0,
        Worker = node.Worker(parsed),
    };

    private static string Describe(LocalNodeRecord record) =>
        $"pid {record.Pid}, gRPC {record.Address}, build {record.Build}, inference on {string.Join(", ", record.Providers)}, " +
        $"stops after {record.IdleTimeoutSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s idle; log {Path.Combine(LocalNodeRecord.StateDirectory(), "node.log")}";
}
