using System.Diagnostics;
using Xunit.Abstractions;
using static Lantern.Cluster.Tests.MultiProcess.MultiProcessJobs;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>
/// A worker process killed with SIGKILL in the middle of a job: the dispatcher re-issues its leases once the cluster sees
/// the dead node unreachable or removed, a worker that joins afterwards finishes the job, and the map is bit-identical to
/// an undisturbed run. The victim works alone until it dies, so it is certain to hold the job's leases when killed (with
/// a second worker up from the start, a fast machine could finish the job before the victim took any).
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class WorkerCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_job_survives_a_worker_process_killed_mid_job_and_gives_the_undisturbed_map()
    {
        var request = LongRequest();
        var reference = await ReferenceAsync(request);

        await using var cluster = new ProcessCluster(output);
        try
        {
            var port = ProcessCluster.FreePort();
            var coordinator = await cluster.StartCoordinatorAsync("coordinator", port, Path.Combine(cluster.Directory, "lantern.db"));
            var victim = await cluster.StartWorkerAsync("victim", port);
            await ProcessCluster.WaitUntilWorkingAsync([victim], TimeSpan.FromMinutes(1));

            var jobId = await SubmitAsync(coordinator.Client, request);
            // The first item done is the victim's, and it is still working through the rest.
            var before = await WatchUntilAsync(coordinator.Client, jobId, p => p.ItemsDone > 0, TimeSpan.FromMinutes(2));
            Assert.Equal(JobState.Running, before.State);

            // Everything after the kill is timed on one clock; a log line's time is when the test read it.
            var clock = Stopwatch.StartNew();
            // The dispatcher logs "Worker … left with N leases; re-issued them" when it frees a dead worker's leases.
            var reissuedLine = coordinator.WaitForLineAsync(l => l.Contains("left with", StringComparison.Ordinal)
                && l.Contains($":{victim.ClusterPort}/", StringComparison.Ordinal), TimeSpan.FromMinutes(5));
            TimeSpan? reissuedAt = null;
            _ = reissuedLine.ContinueWith(_ => reissuedAt = clock.Elapsed, CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            var victimEvaluations = await victim.EvaluationsAsync();
            cluster.Kill(victim);
            var survivor = await cluster.StartWorkerAsync("survivor", port);

            // The first progress seen after the re-issue that goes beyond the last progress seen before it.
            long doneBeforeReissue = before.ItemsDone;
            TimeSpan? progressAfterReissue = null;
            var final = await WaitDoneAsync(coordinator.Client, jobId, TimeSpan.FromMinutes(4), p =>
            {
                if (reissuedAt is null) doneBeforeReissue = p.ItemsDone;
                else if (progressAfterReissue is null && p.ItemsDone > doneBeforeReissue) progressAfterReissue = clock.Elapsed;
            });
            Assert.Equal(JobState.Done, final.State);
            var result = await ResultAsync(coordinator.Client, jobId);
            AssertSameMaps(reference, result);

            output.WriteLine($"killed the victim after {victimEvaluations} evaluations, at {before.ItemsDone}/{before.ItemsTotal} items " +
                $"or later; job done after {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.True(victimEvaluations > 0, "the victim took part before it was killed");
            Assert.True(await survivor.EvaluationsAsync() > 0, "the survivor, joining after the kill, finished the job");
            // The job is done, so any re-issue has happened: do not wait for a line that will not come.
            output.WriteLine(reissuedLine.IsCompletedSuccessfully && reissuedAt is not null
                ? $"kill -> dead worker's leases re-issued: {reissuedAt.Value.TotalSeconds:0.0} s ({(await reissuedLine).Trim()})"
                : "no re-issue line in the coordinator log (the victim held no lease when it died)");
            output.WriteLine(progressAfterReissue is null ? "no progress seen after the re-issue"
                : $"kill -> the job's next progress after the re-issue: {progressAfterReissue.Value.TotalSeconds:0.0} s " +
                  $"(items done {doneBeforeReissue} before the re-issue, {final.ItemsDone} at the end)");
            foreach (var line in coordinator.Lines().Where(l => l.Contains($":{victim.ClusterPort}", StringComparison.Ordinal)
                         && (l.Contains("nreachable", StringComparison.Ordinal) || l.Contains("Leader", StringComparison.Ordinal)
                             || l.Contains("SBR", StringComparison.Ordinal) || l.Contains("re-issu", StringComparison.Ordinal))
                         && !l.Contains("Tried to associate", StringComparison.Ordinal)))
                output.WriteLine($"  coordinator: {line.Trim()}");
            output.WriteLine($"survivor evaluated {await survivor.EvaluationsAsync()} of {final.Evaluations}");
        }
        catch
        {
            cluster.WriteLogTails();
            throw;
        }
    }
}
