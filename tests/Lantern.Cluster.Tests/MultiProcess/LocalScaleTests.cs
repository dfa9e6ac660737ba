using System.Diagnostics;
using Lantern.Cli.Client;
using Lantern.Contracts.Api;
using Xunit.Abstractions;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>
/// deploy/local/up.sh, the compose topology as local processes (PostgreSQL from the Debian package, a gateway+coordinator,
/// workers formed through Cluster Bootstrap): several jobs run while the workers go 3 → 1 → 2 by SIGTERM, and every map
/// matches a one-node run bit for bit, with no lease left to time out after a graceful leave.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class LocalScaleTests(ITestOutputHelper output)
{
    private static readonly string Script = Path.Combine(SharedRoot(), "deploy", "local", "up.sh");

    [Fact]
    public async Task Jobs_finish_bit_identical_while_workers_scale_three_one_two_by_sigterm_and_no_lease_times_out()
    {
        var state = Directory.CreateTempSubdirectory("lantern-local-").FullName;
        var grpcPort = ProcessCluster.FreePort();
        var httpPort = ProcessCluster.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["LANTERN_LOCAL_DIR"] = Path.Combine(state, "run"), ["LANTERN_DLL"] = ProcessCluster.LanternDll,
            ["LANTERN_LOCAL_GRPC_PORT"] = $"{grpcPort}", ["LANTERN_LOCAL_HTTP_PORT"] = $"{httpPort}",
        };
        try
        {
            await UpAsync(environment, "start", "3");
            using var client = ExplainClient.Connect(new Uri($"http://127.0.0.1:{grpcPort}"));
            // The first job is long enough (829 items) to be running while the workers scale down and up.
            SubmitJobRequest[] requests = [MultiProcessJobs.LongRequest(), MultiProcessJobs.Request(window: 3), MultiProcessJobs.Request(window: 2)];
            var jobs = new List<string>();
            foreach (var request in requests) jobs.Add(await MultiProcessJobs.SubmitAsync(client, request));
            await MultiProcessJobs.WatchUntilAsync(client, jobs[0], p => p.ItemsDone > 0, TimeSpan.FromMinutes(2));

            await UpAsync(environment, "scale", "1");
            var runningAfterScaleDown = (await client.Api.GetJobAsync(new GetJobRequest { JobId = jobs[0] })).State;
            output.WriteLine($"first job after the scale-down to 1: {runningAfterScaleDown}");
            await UpAsync(environment, "scale", "2");

            var results = new List<JobResult>();
            foreach (var job in jobs)
            {
                var final = await MultiProcessJobs.WaitDoneAsync(client, job, TimeSpan.FromMinutes(5));
                Assert.Equal(JobState.Done, final.State);
                results.Add(await MultiProcessJobs.ResultAsync(client, job));
            }
            var coordinatorLog = await File.ReadAllTextAsync(Path.Combine(environment["LANTERN_LOCAL_DIR"], "coordinator.log"));
            // Both SIGTERMed workers handed their leases back; none waited out the lease timeout.
            Assert.True(CountOf(coordinatorLog, "is leaving; taking its leases back") >= 2, coordinatorLog);
            Assert.Equal(0, CountOf(coordinatorLog, "timed out; re-issuing"));

            for (var i = 0; i < requests.Length; i++)
                MultiProcessJobs.AssertSameMaps(await MultiProcessJobs.ReferenceAsync(requests[i]), results[i]);
        }
        finally
        {
            await UpAsync(environment, "stop");
            Directory.Delete(state, recursive: true);
        }
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + 1, StringComparison.Ordinal)) count++;
        return count;
    }

    private async Task UpAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Script);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(4));
        output.WriteLine($"{ProcessCluster.Stamp()} up.sh {string.Join(' ', arguments)} ({watch.Elapsed.TotalSeconds:F1} s): {await stdout}{await stderr}");
        Assert.True(process.ExitCode == 0, $"up.sh {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}");
    }

    private static string SharedRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cluster.sln not found above the test directory");
    }
}
