using System.Collections.Concurrent;
using Lantern.Contracts.Api;
using Xunit.Abstractions;
using static Lantern.Cluster.Tests.MultiProcess.MultiProcessJobs;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.MultiProcess;

/// <summary>
/// Many users at once while the cluster changes shape: 4 clients each submit 5 jobs over gRPC while one worker process
/// is killed and another joins. Every job completes exactly once with the map a single node gives.
/// </summary>
[Collection(MultiProcessCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class ConcurrentJobsTests(ITestOutputHelper output)
{
    private const int Clients = 4;
    private const int JobsPerClient = 5;

    private static readonly SubmitJobRequest[] Requests =
    [
        Request(window: 2, stride: 1),                          // 95² = 9025 windows
        Request(window: 4, stride: 2),                          // 47² = 2209 windows
        Request(window: 3, stride: 2, fill: Fill.Types.Kind.Mean), // 47² = 2209 windows
    ];

    [Fact]
    public async Task Twenty_jobs_from_four_clients_all_complete_once_with_correct_maps_while_a_worker_dies_and_another_joins()
    {
        var references = new JobResult[Requests.Length];
        for (var r = 0; r < Requests.Length; r++) references[r] = await ReferenceAsync(Requests[r]);

        await using var cluster = new ProcessCluster(output);
        try
        {
            var port = ProcessCluster.FreePort();
            var coordinator = await cluster.StartCoordinatorAsync("coordinator", port, Path.Combine(cluster.Directory, "lantern.db"));
            var workers = await Task.WhenAll(cluster.StartWorkerAsync("victim", port), cluster.StartWorkerAsync("worker2", port));
            await ProcessCluster.WaitUntilWorkingAsync(workers, TimeSpan.FromMinutes(1));
            var victim = workers[0];

            // Each client has its own channel and submits its 5 jobs one after another, then watches them all.
            var submitted = new ConcurrentDictionary<string, int>(); // job id -> request index
            var tenSubmitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
            {
                using var client = Cli.Client.ExplainClient.Connect(coordinator.GrpcAddress);
                var mine = new List<string>();
                for (var j = 0; j < JobsPerClient; j++)
                {
                    var index = (c * JobsPerClient + j) % Requests.Length;
                    var jobId = await SubmitAsync(client, Requests[index]);
                    Assert.True(submitted.TryAdd(jobId, index), $"job id {jobId} handed out twice");
                    mine.Add(jobId);
                    if (submitted.Count >= Clients * JobsPerClient / 2) tenSubmitted.TrySetResult();
                }
                var finals = await Task.WhenAll(mine.Select(id => WaitDoneAsync(client, id, TimeSpan.FromMinutes(8))));
                return finals;
            })).ToList();

            // Mid-stream: half the jobs are in and the victim has done work; kill it, then a new worker joins.
            await tenSubmitted.Task.WaitAsync(TimeSpan.FromMinutes(2));
            await WaitForAsync(async () => await victim.EvaluationsAsync() > 0, TimeSpan.FromMinutes(2));
            cluster.Kill(victim);
            var joiner = await cluster.StartWorkerAsync("joiner", port);
            await ProcessCluster.WaitUntilWorkingAsync([joiner], TimeSpan.FromMinutes(1));

            var finals = (await Task.WhenAll(clients)).SelectMany(f => f).ToList();
            Assert.Equal(Clients * JobsPerClient, submitted.Count);
            Assert.All(finals, f => Assert.Equal(JobState.Done, f.State));

            // None lost, none duplicated: the cluster lists exactly these jobs, each done.
            var listed = (await coordinator.Client.Api.ListJobsAsync(new ListJobsRequest())).Jobs;
            Assert.Equal(submitted.Keys.Order(), listed.Select(j => j.JobId).Order());
            Assert.All(listed, j => Assert.Equal(JobState.Done, j.State));

            foreach (var (jobId, index) in submitted)
            {
                var result = await ResultAsync(coordinator.Client, jobId);
                AssertSameMaps(references[index], result);
                Assert.Equal(Evaluations(Requests[index]) + 1, result.Progress.Evaluations);
            }
            var joinerEvaluations = await joiner.EvaluationsAsync();
            output.WriteLine($"{submitted.Count} jobs done; the joiner evaluated {joinerEvaluations}, worker2 {await workers[1].EvaluationsAsync()}");
            Assert.True(joinerEvaluations > 0, "the worker that joined mid-stream took work");
        }
        catch
        {
            cluster.WriteLogTails();
            throw;
        }
    }

    /// <summary>Polls a condition (a /metrics read) until it holds.</summary>
    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!await condition())
            await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
    }
}
