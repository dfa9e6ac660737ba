using System.Diagnostics;
using Lantern.Contracts.Api;
using Xunit.Abstractions;
using static Lantern.Cluster.Tests.MultiProcess.MultiProcessJobs;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>Deterministic results across processes: the map does not depend on how many worker processes ran the job.</summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class WorkerCountTests(ITestOutputHelper output)
{
    [Fact]
    public async Task One_and_three_worker_processes_give_bit_identical_maps_and_three_share_the_work()
    {
        var request = Request(window: 2);
        var one = await RunOnAsync(workers: 1, request);
        var three = await RunOnAsync(workers: 3, request);

        AssertSameMaps(one, three);
        Assert.Single(Workers(one));
        Assert.True(Workers(three).Count > 1, $"three worker processes, but only {string.Join(", ", Workers(three))} worked");
    }

    private async Task<JobResult> RunOnAsync(int workers, SubmitJobRequest request)
    {
        await using var cluster = new ProcessCluster(output);
        try
        {
            var port = ProcessCluster.FreePort();
            var coordinator = await cluster.StartCoordinatorAsync("coordinator", port, Path.Combine(cluster.Directory, "lantern.db"));
            var nodes = await Task.WhenAll(Enumerable.Range(1, workers).Select(i => cluster.StartWorkerAsync($"worker{i}", port)));
            await ProcessCluster.WaitUntilWorkingAsync(nodes, TimeSpan.FromMinutes(1));

            var clock = Stopwatch.StartNew();
            var jobId = await SubmitAsync(coordinator.Client, request);
            var final = await WaitDoneAsync(coordinator.Client, jobId, TimeSpan.FromMinutes(5));
            Assert.Equal(JobState.Done, final.State);
            var result = await ResultAsync(coordinator.Client, jobId);
            var perWorker = await Task.WhenAll(nodes.Select(n => n.EvaluationsAsync()));
            output.WriteLine($"{workers} worker process(es): {final.ItemsTotal} items, {final.Evaluations} evaluations in {clock.Elapsed.TotalSeconds:0.0} s; " +
                $"evaluations per worker {string.Join(", ", perWorker)}; summary workers {string.Join(", ", Workers(result))}");
            return result;
        }
        catch
        {
            cluster.WriteLogTails();
            throw;
        }
    }
}
