using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Lantern.Host;

namespace Lantern.Cli.Local;

/// <summary>
/// Finds this user's local node, or starts one (<c>lantern local run</c>, a background process in its own session, its
/// output in <c>node.log</c> beside the record), so that a second <c>lantern explain</c> pays no cluster start-up. One
/// node per user: a command that finds a node of another build or with other settings (database, worker options) stops
/// it and starts its own; a record whose process is gone is replaced. Two commands at once start one node: both take the
/// start lock (<c>start.lock</c>, an exclusive lock the OS drops with its holder) before they look.
/// </summary>
public static class LocalNodeLauncher
{
    /// <summary>How long a node may take from its start to its record (a cold start on a loaded 2-core machine takes ~10 s).</summary>
    private static readonly TimeSpan StartDeadline = TimeSpan.FromMinutes(3);

    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(10);

    /// <summary>$LANTERN_LOCAL_IDLE_TIMEOUT (seconds, may be fractional), else 10 minutes.</summary>
    public static TimeSpan IdleTimeoutFromEnvironment() =>
        double.TryParse(Environment.GetEnvironmentVariable("LANTERN_LOCAL_IDLE_TIMEOUT"), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds) : DefaultIdleTimeout;

    /// <summary>
    /// A background node serves local commands unless --no-daemon or LANTERN_NO_DAEMON=1 says otherwise, and only when this
    /// process is the lantern command itself (it starts the node as a copy of itself; a test host calling the CLI in-process
    /// keeps the in-process node).
    /// </summary>
    public static bool Applies(bool noDaemon) =>
        !noDaemon && Environment.GetEnvironmentVariable("LANTERN_NO_DAEMON") is not ("1" or "true")
        && Assembly.GetEntryAssembly()?.GetName().Name == "lantern" && Environment.ProcessPath is not null;

    /// <summary>What makes two nodes interchangeable: the database and the worker settings (a hash: it may hold a password).</summary>
    public static string Fingerprint(NodeOptions options)
    {
        var w = options.Worker;
        var text = string.Join('\n', Path.GetFullPath(options.DatabasePath), options.PostgresConnectionString ?? "", w.ExecutionProvider,
            w.MaxBatch, w.Capacity, w.Workers, w.IntraOpThreads, w.Pipeline);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16].ToLowerInvariant();
    }

    /// <summary>
    /// The running node for <paramref name="options"/>, started if need be. The returned lease holds the start lock: keep it
    /// until the job is submitted (the node does not stop for idleness while a command holds it), then dispose it.
    /// </summary>
    public static async Task<LocalNodeLease> AcquireAsync(NodeOptions options, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        var directory = LocalNodeRecord.StateDirectory();
        var held = await LockAsync(directory, cancellationToken);
        try
        {
            var fingerprint = Fingerprint(options);
            var record = LocalNodeRecord.Read(directory);
            if (record is not null && IsNode(record.Pid))
            {
                if (record.Build == LocalNodeRecord.CurrentBuild() && record.Settings == fingerprint && Answers(record))
                    return new LocalNodeLease(record, held, Started: false);
                await StopAsync(record.Pid, cancellationToken); // another build or other settings: this user's one node becomes ours
            }
            if (File.Exists(LocalNodeRecord.PathIn(directory))) File.Delete(LocalNodeRecord.PathIn(directory)); // stale
            return new LocalNodeLease(await StartAsync(directory, options, idleTimeout, cancellationToken), held, Started: true);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>The start lock if no other process holds it now, else null.</summary>
    public static FileStream? TryLock(string directory)
    {
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            return new FileStream(Path.Combine(directory, "start.lock"), options);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task<FileStream> LockAsync(string directory, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryLock(directory) is { } held) return held;
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>The pid runs a local node (not a process that reused a dead node's pid).</summary>
    public static bool IsNode(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited) return false;
        }
        catch (ArgumentException)
        {
            return false;
        }
        if (!OperatingSystem.IsLinux()) return true;
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains("local\0run\0", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Its gRPC port takes a connection (a node that is alive but no longer listens is about to exit).</summary>
    private static bool Answers(LocalNodeRecord record)
    {
        try
        {
            var address = new Uri(record.Address);
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            socket.Connect(address.Host, address.Port);
            return true;
        }
        catch (Exception e) when (e is SocketException or UriFormatException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM (the node's graceful stop: it hands its work back and removes its record), then waits for the exit.</summary>
    public static async Task StopAsync(int pid, CancellationToken cancellationToken)
    {
        using var process = Process.GetProcessById(pid);
        if (OperatingSystem.IsWindows()) process.Kill();
        else _ = Kill(pid, 15);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(); // a node that did not stop in a minute will not
            await process.WaitForExitAsync(cancellationToken);
        }
    }

    private static async Task<LocalNodeRecord> StartAsync(string directory, NodeOptions options, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        var log = Path.Combine(directory, "node.log");
        // The log is this user's too (job ids, file names): created 0600 and truncated here, appended to by the node.
        var logOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) logOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        new FileStream(log, logOptions).Dispose();
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // setsid: the node runs in its own session, so the terminal's Ctrl-C (sent to the command's process group) and its
        // hang-up do not reach it; its output goes to node.log, never to a terminal that may be gone.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""if command -v setsid >/dev/null 2>&1; then exec setsid "$0" "$@" </dev/null >>"$LANTERN_LOCAL_LOG" 2>&1; else exec "$0" "$@" </dev/null >>"$LANTERN_LOCAL_LOG" 2>&1; fi""");
        start.ArgumentList.Add(Environment.ProcessPath!);
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var argument in RunArguments(options, idleTimeout)) start.ArgumentList.Add(argument);
        start.Environment["LANTERN_LOCAL_LOG"] = log;
        start.Environment["LANTERN_STATE_DIR"] = directory;
        // A connection string may carry a password: the environment, unlike the command line, is not readable by other users.
        if (options.PostgresConnectionString is { } postgres) start.Environment["LANTERN_POSTGRES"] = postgres;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the local node");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StartDeadline);
        while (true)
        {
            if (LocalNodeRecord.Read(directory) is { } record && record.Pid == process.Id) return record;
            if (process.HasExited)
                throw new InvalidOperationException($"the local node exited with {process.ExitCode} as it started; its log ({log}) ends:\n{Tail(log)}");
            try
            {
                await Task.Delay(25, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException($"the local node did not start within {StartDeadline.TotalMinutes} min; see {log}");
            }
        }
    }

    private static IEnumerable<string> RunArguments(NodeOptions options, TimeSpan idleTimeout)
    {
        var w = options.Worker;
        string[] arguments = ["local", "run", "--idle-timeout", idleTimeout.TotalSeconds.ToString("R", CultureInfo.InvariantCulture),
            "--db", Path.GetFullPath(options.DatabasePath), "--provider", w.ExecutionProvider.ToString().ToLowerInvariant(),
            "--max-batch", Invariant(w.MaxBatch), "--capacity", Invariant(w.Capacity), "--workers", Invariant(w.Workers),
            "--intra-op-threads", Invariant(w.IntraOpThreads)];
        return w.Pipeline switch
        {
            true => [.. arguments, "--pipeline"],
            false => [.. arguments, "--no-pipeline"],
            null => arguments,
        };
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Tail(string path)
    {
        try
        {
            return string.Join('\n', File.ReadAllLines(path).TakeLast(20));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}

/// <summary>A found or started local node, with the start lock held until the command's job is submitted.</summary>
public sealed record LocalNodeLease(LocalNodeRecord Record, FileStream StartLock, bool Started) : IDisposable
{
    public void Dispose() => StartLock.Dispose();
}
