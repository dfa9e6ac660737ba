using System.Globalization;
using Lantern.Coordinator.Hosting;
using Lantern.Gateway.Hosting;
using Lantern.Host;
using Lantern.Worker.Hosting;
using Lantern.Worker.Inference;
using Microsoft.Extensions.Logging;

namespace Lantern.Bench.ControlPlane;

/// <summary>
/// What a node of the control-plane bench runs with: the node's own options, nothing the CLI's <c>serve</c> would not
/// set but for the worker count, the work item size, the snapshot interval and the per-job evaluation quota (a 10⁶-item
/// job is 32M evaluations, above the gateway's default).
/// </summary>
public sealed record NodeSpec
{
    public required string Database { get; init; }
    public string Roles { get; init; } = "gateway,coordinator,worker";
    /// <summary>Akka.Remote port; 0 picks one (a lone node).</summary>
    public int ClusterPort { get; init; }
    public string Seeds { get; init; } = "";
    public int Workers { get; init; } = 1;
    public int WorkItemSize { get; init; } = new CoordinatorOptions().WorkItemSize;
    public int SnapshotEveryItems { get; init; } = new CoordinatorOptions().SnapshotEveryItems;

    public const string Flag = "--control-plane-node";

    public IEnumerable<string> ToArgs() =>
    [
        Flag, "--db", Database, "--roles", Roles, "--cluster-port", Invariant(ClusterPort), "--seeds", Seeds,
        "--workers", Invariant(Workers), "--item-size", Invariant(WorkItemSize), "--snapshot-every", Invariant(SnapshotEveryItems),
    ];

    public static NodeSpec Parse(IReadOnlyList<string> args)
    {
        string Get(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault()
                                   ?? throw new ArgumentException($"{Flag} needs {name}");
        int Int(string name) => int.Parse(Get(name), CultureInfo.InvariantCulture);
        return new NodeSpec
        {
            Database = Get("--db"), Roles = Get("--roles"), ClusterPort = Int("--cluster-port"), Seeds = Get("--seeds"),
            Workers = Int("--workers"), WorkItemSize = Int("--item-size"), SnapshotEveryItems = Int("--snapshot-every"),
        };
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The bench's own node process (<c>Lantern.Bench --control-plane-node …</c>): a Lantern node built by
/// <see cref="LanternNode"/> as <c>lantern serve</c> builds it, so that the bench can read its RSS and CPU apart from
/// the bench's own, and kill it with SIGKILL. It prints its gRPC address on one line, then serves until its standard
/// input closes (a graceful stop) or it is killed; meanwhile, every 200 ms, a line with the time its JIT has spent
/// compiling, so the bench can tell when tiered compilation has settled (see <see cref="BenchNode.JitMilliseconds"/>).
/// </summary>
public static class NodeChild
{
    public const string ReadyMarker = "lantern-bench-node grpc=";
    public const string JitMarker = "lantern-bench-node jit-ms=";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var spec = NodeSpec.Parse(args);
        var home = Path.GetDirectoryName(Path.GetFullPath(spec.Database))!;
        var app = LanternNode.Build(new NodeOptions
        {
            Roles = spec.Roles.Split(',', StringSplitOptions.RemoveEmptyEntries),
            DatabasePath = spec.Database,
            CacheDirectory = Path.Combine(home, $"cache-{Environment.ProcessId}"),
            GrpcPort = 0,
            ClusterPort = spec.ClusterPort,
            SeedNodes = spec.Seeds.Split(',', StringSplitOptions.RemoveEmptyEntries),
            LogLevel = LogLevel.Warning,
            Coordinator = new CoordinatorOptions { WorkItemSize = spec.WorkItemSize, SnapshotEveryItems = spec.SnapshotEveryItems },
            Worker = new WorkerOptions { Workers = spec.Workers, ExecutionProvider = ExecutionProviderPreference.Cpu },
            Gateway = new GatewayOptions { Quotas = new() { MaxEvaluationsPerJob = long.MaxValue, MaxQueuedEvaluations = long.MaxValue, MaxImagePixels = long.MaxValue } },
        });
        await app.StartAsync();
        Console.Out.WriteLine(ReadyMarker + LanternNode.GrpcAddress(app));
        Console.Out.Flush();
        using var stopReporting = new CancellationTokenSource();
        var reporting = ReportJitAsync(stopReporting.Token);
        await Console.In.ReadToEndAsync();
        await stopReporting.CancelAsync();
        await reporting;
        await app.StopAsync();
        await app.DisposeAsync();
        return 0;
    }

    private static async Task ReportJitAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var milliseconds = System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds;
                await Console.Out.WriteLineAsync(JitMarker + milliseconds.ToString("F1", CultureInfo.InvariantCulture));
                await Console.Out.FlushAsync(stop);
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }
}
