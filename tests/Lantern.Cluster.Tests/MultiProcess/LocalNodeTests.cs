using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Cli.Local;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using Xunit.Abstractions;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>
/// <c>lantern explain</c> without --gateway, as a user runs it (real <c>lantern</c> processes): the first starts this user's
/// background node, later ones reuse it; a stale record or a node of another build is replaced; the node refuses a call
/// without its key and stops itself when idle. Each test has its own state directory and database.
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class LocalNodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Size = 64;
    private readonly string _directory = Directory.CreateTempSubdirectory("lantern-localnode-").FullName;
    private string State => Path.Combine(_directory, "state");
    private string Database => Path.Combine(_directory, "lantern.db");
    private string Model => Path.Combine(_directory, "square.onnx");
    private string Image => Path.Combine(_directory, "noise.png");

    public async Task InitializeAsync()
    {
        await File.WriteAllBytesAsync(Model, SyntheticModels.SquareBrightness(Size, Size, (8, 8, 16, 16)));
        await File.WriteAllTextAsync(Path.ChangeExtension(Model, ".json"),
            """{ "resize": "stretch", "scale": 1, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "logits" }""");
        await File.WriteAllBytesAsync(Image, TestImages.Noise(Size, Size));
    }

    public async Task DisposeAsync()
    {
        // Whatever a test left running: stop it, and if it will not stop, kill it.
        if (Record() is { } record && LocalNodeLauncher.IsNode(record.Pid))
        {
            await RunAsync("local", "stop");
            if (LocalNodeLauncher.IsNode(record.Pid)) Process.GetProcessById(record.Pid).Kill();
        }
    }

    [Fact]
    public async Task A_second_explain_reuses_the_running_node_and_its_map_equals_the_in_process_one_bit_for_bit()
    {
        await ExplainAsync("first");
        var started = Record()!;
        await ExplainAsync("second");
        var reused = Record()!;
        await ExplainAsync("in-process", "--no-daemon", "--db", Path.Combine(_directory, "in-process.db"));

        Assert.Equal(started.Pid, reused.Pid);
        Assert.Equal(Workers("first"), Workers("second"));
        Assert.Equal(await File.ReadAllBytesAsync(Map("in-process")), await File.ReadAllBytesAsync(Map("second")));
        Assert.Equal(await File.ReadAllBytesAsync(Map("first")), await File.ReadAllBytesAsync(Map("second")));
        var status = await RunAsync("local", "status");
        Assert.Equal(0, status.ExitCode);
        Assert.Contains($"pid {started.Pid}", status.Output);
    }

    [Fact]
    public async Task A_record_whose_process_is_gone_is_replaced_by_a_new_node()
    {
        Directory.CreateDirectory(State);
        int dead;
        using (var gone = Process.Start("true")!)
        {
            await gone.WaitForExitAsync();
            dead = gone.Id;
        }
        new LocalNodeRecord(dead, "http://127.0.0.1:1/", "stale", LocalNodeRecord.CurrentBuild(), "stale", [], 600, 0).Write(State);

        await ExplainAsync("after-stale");

        var record = Record()!;
        Assert.NotEqual(dead, record.Pid);
        Assert.True(LocalNodeLauncher.IsNode(record.Pid));
        Assert.True(File.Exists(Map("after-stale")));
    }

    [Fact]
    public async Task A_node_of_another_build_is_stopped_and_replaced()
    {
        await ExplainAsync("old-build");
        var old = Record()!;
        using var oldProcess = Process.GetProcessById(old.Pid);
        (old with { Build = "another-build" }).Write(State); // what a rebuilt lantern sees: a node whose assemblies differ

        await ExplainAsync("new-build");

        var replacement = Record()!;
        Assert.NotEqual(old.Pid, replacement.Pid);
        Assert.Equal(LocalNodeRecord.CurrentBuild(), replacement.Build);
        await oldProcess.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Two_commands_started_at_once_start_one_node()
    {
        var both = await Task.WhenAll(RunAsync("local", "start"), RunAsync("local", "start"));

        Assert.All(both, run => Assert.Equal(0, run.ExitCode));
        var pid = Record()!.Pid;
        Assert.All(both, run => Assert.Contains($"pid {pid},", run.Output));
        Assert.Single(both, run => run.Output.StartsWith("started", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_node_answers_only_calls_that_carry_its_key()
    {
        Assert.Equal(0, (await RunAsync("local", "start")).ExitCode);
        var record = Record()!;
        var address = new Uri(record.Address);

        foreach (var key in (string?[])[null, "wrong", LocalNodeRecord.NewKey()])
        {
            using var stranger = ExplainClient.Connect(address, key);
            var refused = await Assert.ThrowsAsync<RpcException>(() => stranger.Api.ListJobsAsync(new ListJobsRequest()).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        }
        using var owner = ExplainClient.Connect(address, record.Key);
        await owner.Api.ListJobsAsync(new ListJobsRequest());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(LocalNodeRecord.PathIn(State)));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(State));
        }
    }

    [Fact]
    public async Task The_node_stops_itself_after_its_idle_timeout_and_removes_its_record()
    {
        var started = await RunAsync("local", "start", "--idle-timeout", "0.5");
        Assert.Equal(0, started.ExitCode);
        // The pid from what start printed: on a loaded machine the node may be idle for half a second, stop and remove its
        // record before this line reads it.
        var pid = int.Parse(Regex.Match(started.Output, @"pid (\d+),").Groups[1].Value, CultureInfo.InvariantCulture);

        // The event: the process exits by itself (the bound only keeps a broken test from hanging the run).
        var deadline = Stopwatch.StartNew();
        while (LocalNodeLauncher.IsNode(pid) && deadline.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(50);
        Assert.False(LocalNodeLauncher.IsNode(pid), $"the local node (pid {pid}) still runs 2 minutes after its half-second idle timeout");

        Assert.Null(Record());
        Assert.Equal(3, (await RunAsync("local", "status")).ExitCode);
    }

    private LocalNodeRecord? Record() => LocalNodeRecord.Read(State);

    private string Map(string run) => Path.Combine(_directory, run, "map-0.npy");

    private string Workers(string run) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, run, "summary.json")))!["workers"]!.ToJsonString();

    private async Task ExplainAsync(string run, params string[] extra)
    {
        // --no-cache: each run computes on the node (a repeated job would otherwise be answered from the first one's result).
        string[] args = ["explain", Image, "--model", Model, "--window", "8", "--stride", "4", "--classes", "0", "--provider", "cpu",
            "--no-cache", "--out", Path.Combine(_directory, run)];
        var result = await RunAsync([.. args, .. extra.Contains("--db") ? [] : (string[])["--db", Database], .. extra]);
        Assert.True(result.ExitCode == 0, $"explain {run} exited {result.ExitCode}:\n{result.Output}\n{result.Errors}\n{NodeLog()}");
    }

    private string NodeLog()
    {
        var log = Path.Combine(State, "node.log");
        return File.Exists(log) ? "node.log:\n" + File.ReadAllText(log) : "(no node.log)";
    }

    /// <summary><c>dotnet lantern.dll ARGS</c> with this test's state directory and a clean LANTERN_* environment.</summary>
    private async Task<(int ExitCode, string Output, string Errors)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(ProcessCluster.LanternDll);
        foreach (var argument in args) start.ArgumentList.Add(argument);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("LANTERN_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        start.Environment["LANTERN_STATE_DIR"] = State;
        start.Environment["XDG_DATA_HOME"] = _directory; // the worker's artifact cache
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        output.WriteLine($"lantern {string.Join(' ', args)} -> {process.ExitCode}");
        return (process.ExitCode, await stdout, await stderr);
    }
}
