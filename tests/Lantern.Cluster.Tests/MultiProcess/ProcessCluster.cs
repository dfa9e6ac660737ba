using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>
/// Lantern nodes as real OS processes (<c>dotnet lantern.dll serve …</c>), each with its own log file, artifact cache
/// and, for coordinators, a database in one temporary directory. Disposing kills every process it started, with its
/// process tree; a process-exit and unhandled-exception hook does the same if the test host goes down first, so a
/// failed or aborted test never leaves nodes behind.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> Live = new();
    private readonly ITestOutputHelper _output;
    private readonly List<NodeProcess> _nodes = [];
    private int _started;

    static ProcessCluster()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAllLive();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => KillAllLive();
    }

    public ProcessCluster(ITestOutputHelper output)
    {
        _output = output;
        Directory = System.IO.Directory.CreateTempSubdirectory("lantern-mp-").FullName;
        if (!File.Exists(LanternDll) || !File.Exists(Path.ChangeExtension(LanternDll, ".runtimeconfig.json")))
            throw new InvalidOperationException($"{LanternDll} and its runtimeconfig.json must sit in the test output directory");
    }

    /// <summary>The CLI, copied beside the tests because the test project references src/Cli.</summary>
    public static string LanternDll { get; } = Path.Combine(AppContext.BaseDirectory, "lantern.dll");

    public string Directory { get; }

    /// <summary>Nodes started from now on require API keys, as a real <c>lantern serve</c> does.</summary>
    public bool RequireApiKeys { get; set; }

    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    /// <summary>A loopback port free right now (bound to port 0, then released), for a node's Akka.Remote endpoint.</summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public static string SeedAddress(int clusterPort) => $"akka.tcp://lantern@127.0.0.1:{clusterPort}";

    /// <summary>A gateway + coordinator node on <paramref name="clusterPort"/> that seeds the cluster itself.</summary>
    public Task<NodeProcess> StartCoordinatorAsync(string name, int clusterPort, string database) =>
        StartAsync(name, "gateway,coordinator", clusterPort, SeedAddress(clusterPort), database);

    /// <summary>A worker-only node (no database: it fetches artifacts from the coordinator) joining through the seed.</summary>
    public Task<NodeProcess> StartWorkerAsync(string name, int seedPort) =>
        StartAsync(name, "worker", FreePort(), SeedAddress(seedPort), database: null);

    public async Task<NodeProcess> StartAsync(string name, string roles, int clusterPort, string seeds, string? database)
    {
        var home = System.IO.Directory.CreateDirectory(Path.Combine(Directory, $"{name}-{Interlocked.Increment(ref _started)}")).FullName;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = home,
        };
        foreach (var argument in (string[])[LanternDll, "serve", "--roles", roles, "--port", "0", "--cluster-port",
                     clusterPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seeds", seeds,
                     "--provider", "cpu", "--db", database ?? Path.Combine(home, "unused.db"),
                     // Many worker processes on one machine, each one worker, as a Kubernetes worker pod sets it; left to
                     // choose, each would start a worker per core.
                     "--workers", "1"])
        {
            start.ArgumentList.Add(argument);
        }
        // LocalApplicationData (a worker's artifact cache) lives here, not in the user's home, and not shared.
        start.Environment["XDG_DATA_HOME"] = home;
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("LANTERN_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        // Test clusters run open (serve --no-auth) unless a test asks for API keys.
        if (!RequireApiKeys) start.Environment["LANTERN_NO_AUTH"] = "1";

        var node = new NodeProcess(name, roles, clusterPort, Path.Combine(home, "node.log"), start);
        _nodes.Add(node);
        Live[node.Id] = node.Process;
        _output.WriteLine($"{Stamp()} started {name} ({roles}) pid {node.Id}, cluster port {clusterPort}, log {node.LogPath}");
        try
        {
            await node.Ready.WaitAsync(TimeSpan.FromMinutes(1));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{name} did not print its 'serving gRPC' line: {e.Message}\n{node.Tail()}", e);
        }
        _output.WriteLine($"{Stamp()} {name} serving gRPC on {node.GrpcAddress}");
        return node;
    }

    /// <summary><c>kill -9</c>: SIGKILL to the node and its children, no shutdown of any kind.</summary>
    public void Kill(NodeProcess node)
    {
        node.Kill();
        Live.TryRemove(node.Id, out _);
        _output.WriteLine($"{Stamp()} killed {node.Name} (pid {node.Id})");
    }

    /// <summary>
    /// Waits until each worker has joined and found the dispatcher singleton (its log says so), i.e. it can pull work.
    /// (Which node leads the cluster, and so logs "moving node to Up", depends on address order: not a reliable place.)
    /// </summary>
    public static Task WaitUntilWorkingAsync(IEnumerable<NodeProcess> workers, TimeSpan timeout) =>
        Task.WhenAll(workers.Select(w => WaitUntilWorkingAsync(w, timeout)));

    /// <summary>As above, for one worker, looking only from its log line <paramref name="from"/> on (a later incarnation).</summary>
    public static Task<string> WaitUntilWorkingAsync(NodeProcess worker, TimeSpan timeout, int from = 0) =>
        worker.WaitForLineAsync(
            line => line.Contains("Singleton identified at", StringComparison.Ordinal)
                && line.Contains("/user/dispatcher/dispatcher", StringComparison.Ordinal),
            timeout, from);

    /// <summary>The last lines of every node's log, for a failure report.</summary>
    public void WriteLogTails(int lines = 40)
    {
        foreach (var node in _nodes)
            _output.WriteLine($"----- {node.Name} (pid {node.Id}, {(node.HasExited ? "exited" : "running")}) {node.LogPath}\n{node.Tail(lines)}");
    }

    public static string Stamp() => DateTime.Now.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Kill();
            Live.TryRemove(node.Id, out _);
        }
        foreach (var node in _nodes) await node.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // a log still held open: the OS cleans /tmp
        }
    }

    private static void KillAllLive()
    {
        foreach (var process in Live.Values)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        }
    }
}

/// <summary>One node process: its log (stdout and stderr, line by line), its addresses once started, a gRPC client.</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private const string ServingMarker = " serving gRPC on ";
    private readonly StreamWriter _log;
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Condition, TaskCompletionSource<string> Seen)> _waiters = [];
    private Uri? _httpAddress;
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Cli.Client.ExplainClient? _client;
    private HttpClient? _http;
    private bool _closed;

    internal NodeProcess(string name, string roles, int clusterPort, string logPath, ProcessStartInfo start)
    {
        Name = name;
        Roles = roles;
        ClusterPort = clusterPort;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: false, Encoding.UTF8) { AutoFlush = true };
        Process = new Process { StartInfo = start, EnableRaisingEvents = true };
        Process.OutputDataReceived += (_, e) => OnLine(e.Data, "");
        Process.ErrorDataReceived += (_, e) => OnLine(e.Data, "[stderr] ");
        Process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException($"{Name} exited with {Process.ExitCode}"));
        Process.Start();
        Id = Process.Id;
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public string Name { get; }
    public string Roles { get; }
    public int ClusterPort { get; }
    public string LogPath { get; }
    public Process Process { get; }
    public int Id { get; }
    public Uri GrpcAddress { get; private set; } = null!;
    public bool HasExited => Process.HasExited;
    internal Task Ready => _ready.Task;

    public Cli.Client.ExplainClient Client => _client ??= Cli.Client.ExplainClient.Connect(GrpcAddress);

    /// <summary>
    /// This node's <c>lantern_worker_evaluations_total</c> from GET /metrics (HTTP/2 without TLS): of its current
    /// incarnation, for a worker that rejoined the cluster as a fresh node (and serves on a fresh port).
    /// </summary>
    public async Task<long> EvaluationsAsync()
    {
        if (_httpAddress != GrpcAddress)
        {
            _http?.Dispose();
            _httpAddress = GrpcAddress;
            _http = new HttpClient
            {
                BaseAddress = GrpcAddress,
                DefaultRequestVersion = HttpVersion.Version20,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
        }
        var text = await _http!.GetStringAsync("/metrics");
        return (long)(Operations.PrometheusText.Sum(text, "lantern_worker_evaluations_total")
            ?? throw new InvalidOperationException($"{Name}'s /metrics has no lantern_worker_evaluations_total:\n{text}"));
    }

    /// <summary>
    /// Completes with the first log line (already printed or still to come) that satisfies the condition, looking from
    /// line <paramref name="from"/> (0-based) on.
    /// </summary>
    public Task<string> WaitForLineAsync(Func<string, bool> condition, TimeSpan timeout, int from = 0)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            var earlier = _lines.Skip(from).FirstOrDefault(condition);
            if (earlier is not null) return Task.FromResult(earlier);
            _waiters.Add((condition, seen));
        }
        return seen.Task.WaitAsync(timeout);
    }

    /// <summary>Lines logged so far: a <c>from</c> for <see cref="WaitForLineAsync"/> that looks only at what comes next.</summary>
    public int LineCount
    {
        get
        {
            lock (_lines) return _lines.Count;
        }
    }

    /// <summary>The index of a line <see cref="WaitForLineAsync"/> returned (lines carry a millisecond stamp).</summary>
    public int IndexOf(string line)
    {
        lock (_lines) return _lines.LastIndexOf(line);
    }

    public IReadOnlyList<string> Lines()
    {
        lock (_lines) return [.. _lines];
    }

    public string Tail(int lines = 40)
    {
        lock (_lines) return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - lines)));
    }

    internal void Kill()
    {
        try
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
    }

    private void OnLine(string? line, string prefix)
    {
        if (line is null) return;
        var stamped = $"{ProcessCluster.Stamp()} {prefix}{line}";
        List<TaskCompletionSource<string>> fire;
        lock (_lines)
        {
            _lines.Add(stamped);
            if (!_closed) _log.WriteLine(stamped);
            fire = [];
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (!_waiters[i].Condition(stamped)) continue;
                fire.Add(_waiters[i].Seen);
                _waiters.RemoveAt(i);
            }
        }
        foreach (var seen in fire) seen.TrySetResult(stamped);

        var at = line.IndexOf(ServingMarker, StringComparison.Ordinal);
        if (at >= 0 && line.StartsWith("Lantern node (", StringComparison.Ordinal))
        {
            var address = line[(at + ServingMarker.Length)..].Split(';')[0].Trim();
            GrpcAddress = new Uri(address);
            _ready.TrySetResult(true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        _http?.Dispose();
        Kill();
        await Task.Yield();
        lock (_lines)
        {
            _closed = true;
            _log.Dispose();
        }
        Process.Dispose();
    }
}
