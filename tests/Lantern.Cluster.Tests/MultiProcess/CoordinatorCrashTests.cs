using Xunit.Abstractions;
using static Lantern.Cluster.Tests.MultiProcess.MultiProcessJobs;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>
/// Nothing lost, across processes: the gateway + coordinator process killed with SIGKILL mid-job and started again on
/// the same database and cluster port resumes the job under the same id, the work items it had persisted are not
/// evaluated again, and the map is bit-identical to an undisturbed run.
/// </summary>
/// <remarks>
/// Worker processes do not rejoin a restarted seed: the split-brain resolver keeps the side with the oldest coordinator,
/// so workers that lose the only coordinator down themselves and exit (CoordinatedShutdown, exit code 3), as a
/// Kubernetes pod would before being restarted. The test therefore starts fresh worker processes beside the new
/// coordinator, as an orchestrator does; their /metrics start at 0, so they count exactly what the resumed job made
/// them evaluate.
/// </remarks>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class CoordinatorCrashTests(ITestOutputHelper output)
{
    private const int WorkItemSize = 32; // CoordinatorOptions.WorkItemSize, which `lantern serve` uses

    [Fact]
    public async Task A_job_resumes_on_a_restarted_coordinator_process_without_recomputing_persisted_items()
    {
        var request = LongRequest();
        var reference = await ReferenceAsync(request);

        await using var cluster = new ProcessCluster(output);
        try
        {
            var port = ProcessCluster.FreePort();
            var database = Path.Combine(cluster.Directory, "lantern.db");
            var first = await cluster.StartCoordinatorAsync("coordinator", port, database);
            var oldWorkers = await Task.WhenAll(cluster.StartWorkerAsync("worker1", port), cluster.StartWorkerAsync("worker2", port));
            await ProcessCluster.WaitUntilWorkingAsync(oldWorkers, TimeSpan.FromMinutes(1));

            var jobId = await SubmitAsync(first.Client, request);
            var before = await WatchUntilAsync(first.Client, jobId, p => p.ItemsTotal > 0 && p.ItemsDone * 4 >= p.ItemsTotal,
                TimeSpan.FromMinutes(2));
            Assert.Equal(JobState.Running, before.State);
            cluster.Kill(first);

            var second = await cluster.StartCoordinatorAsync("coordinator-restarted", port, database);
            var newWorkers = await Task.WhenAll(cluster.StartWorkerAsync("worker3", port), cluster.StartWorkerAsync("worker4", port));
            await ProcessCluster.WaitUntilWorkingAsync(newWorkers, TimeSpan.FromMinutes(1));

            var final = await WaitDoneAsync(second.Client, jobId, TimeSpan.FromMinutes(4));
            Assert.Equal(JobState.Done, final.State);
            AssertSameMaps(reference, await ResultAsync(second.Client, jobId));

            // Items counted done before the kill were persisted; every other item holds at most WorkItemSize windows.
            // No in-flight slack is needed: the new workers start from 0, and an item finished but not yet persisted at
            // the kill is not among those counted done, so it is inside the bound.
            var afterRestart = (await Task.WhenAll(newWorkers.Select(w => w.EvaluationsAsync()))).Sum();
            var bound = (before.ItemsTotal - before.ItemsDone) * WorkItemSize;
            output.WriteLine($"killed the coordinator at {before.ItemsDone}/{before.ItemsTotal} items; after the restart the workers " +
                $"evaluated {afterRestart} (bound {bound} = {before.ItemsTotal - before.ItemsDone} remaining items x {WorkItemSize}) " +
                $"of the job's {final.Evaluations}");
            Assert.InRange(afterRestart, 1, bound);
            Assert.True(afterRestart < final.Evaluations, "the restarted cluster did not start the job over");
            Assert.Equal(Evaluations(request) + 1, final.Evaluations); // the baseline plus every window, each counted once

            foreach (var old in oldWorkers)
                output.WriteLine($"{old.Name} (a worker of the killed coordinator) {(old.HasExited ? $"exited by itself with {old.Process.ExitCode}" : "is still running")}");
        }
        catch
        {
            cluster.WriteLogTails();
            throw;
        }
    }
}
