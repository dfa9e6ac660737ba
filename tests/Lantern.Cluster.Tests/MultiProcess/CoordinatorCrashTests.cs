using Xunit.Abstractions;
using static Lantern.Cluster.Tests.MultiProcess.MultiProcessJobs;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>
/// Nothing lost, across processes, and no one to restart by hand: the only gateway + coordinator process is killed with
/// SIGKILL mid-job and started again on the same database and cluster port; the worker processes outlive it (downed by
/// the split-brain resolver, each starts a fresh node in the same process and rejoins), the job resumes under the same
/// id on those same processes, the work items it had persisted are not evaluated again, and the map is bit-identical
/// to an undisturbed run.
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class CoordinatorCrashTests(ITestOutputHelper output)
{
    private const int WorkItemSize = 32; // CoordinatorOptions.WorkItemSize, which `lantern serve` uses

    [Fact]
    public async Task A_job_resumes_on_a_restarted_coordinator_process_with_the_same_worker_processes_without_recomputing_persisted_items()
    {
        var request = LongRequest();
        var reference = await ReferenceAsync(request);

        await using var cluster = new ProcessCluster(output);
        try
        {
            var port = ProcessCluster.FreePort();
            var database = Path.Combine(cluster.Directory, "lantern.db");
            var first = await cluster.StartCoordinatorAsync("coordinator", port, database);
            var workers = await Task.WhenAll(cluster.StartWorkerAsync("worker1", port), cluster.StartWorkerAsync("worker2", port));
            await ProcessCluster.WaitUntilWorkingAsync(workers, TimeSpan.FromMinutes(1));

            var jobId = await SubmitAsync(first.Client, request);
            var before = await WatchUntilAsync(first.Client, jobId, p => p.ItemsTotal > 0 && p.ItemsDone * 4 >= p.ItemsTotal,
                TimeSpan.FromMinutes(2));
            Assert.Equal(JobState.Running, before.State);
            var logged = workers.Select(w => w.LineCount).ToList();
            cluster.Kill(first);

            var second = await cluster.StartCoordinatorAsync("coordinator-restarted", port, database);
            // Each worker is downed (its side of the cluster has no coordinator), starts a fresh node in the same process
            // and joins the restarted coordinator through the same seed; its new incarnation's /metrics start at 0.
            await Task.WhenAll(workers.Select(async (worker, i) =>
            {
                var rejoin = await worker.WaitForLineAsync(l => l.Contains("to rejoin the cluster", StringComparison.Ordinal),
                    TimeSpan.FromMinutes(2), logged[i]);
                await ProcessCluster.WaitUntilWorkingAsync(worker, TimeSpan.FromMinutes(1), worker.IndexOf(rejoin));
            }));

            var final = await WaitDoneAsync(second.Client, jobId, TimeSpan.FromMinutes(4));
            Assert.Equal(JobState.Done, final.State);
            AssertSameMaps(reference, await ResultAsync(second.Client, jobId));

            // The same worker processes did the rest of the job.
            Assert.All(workers, w => Assert.False(w.HasExited, $"{w.Name} (pid {w.Id}) exited"));
            var afterRestart = await Task.WhenAll(workers.Select(w => w.EvaluationsAsync()));
            // Items counted done before the kill were persisted; every other item holds at most WorkItemSize windows. No
            // in-flight slack: the rejoined incarnations count from 0, so work of the old ones (an item running at the
            // kill) is not in it, and an item finished but not yet persisted at the kill is not among those counted done.
            var bound = (before.ItemsTotal - before.ItemsDone) * WorkItemSize;
            output.WriteLine($"killed the coordinator at {before.ItemsDone}/{before.ItemsTotal} items; after the restart the same " +
                $"worker processes evaluated {string.Join(" + ", afterRestart)} (bound {bound} = {before.ItemsTotal - before.ItemsDone} " +
                $"remaining items x {WorkItemSize}) of the job's {final.Evaluations}");
            Assert.InRange(afterRestart.Sum(), 1, bound);
            Assert.True(afterRestart.Sum() < final.Evaluations, "the restarted cluster did not start the job over");
            Assert.Equal(Evaluations(request) + 1, final.Evaluations); // the baseline plus every window, each counted once
        }
        catch
        {
            cluster.WriteLogTails();
            throw;
        }
    }
}
