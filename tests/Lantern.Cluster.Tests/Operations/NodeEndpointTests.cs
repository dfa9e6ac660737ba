using System.Net;
using Akka.Actor;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.MultiProcess;
using Lantern.Contracts.Cluster;
using Lantern.Host;
using Lantern.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Operations;

/// <summary>
/// The HTTP/1.1 port an operator's tools read: Prometheus scrapes /metrics, kubelet probes /healthz and /readyz, and
/// grpc.health.v1 answers on the gRPC port from the same checks. In-process nodes on loopback, plain HTTP/1.1 clients.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class NodeEndpointTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = OperationsNodes.Patience;

    [Fact]
    public async Task Queue_depth_on_metrics_rises_while_no_worker_runs_a_job_and_returns_to_zero_when_one_finishes_it()
    {
        var clusterPort = ProcessCluster.FreePort();
        var home = Directory.CreateTempSubdirectory("lantern-endpoints-").FullName;
        var coordinator = await OperationsNodes.StartAsync(new NodeOptions
        {
            Roles = [ClusterRoles.Gateway, ClusterRoles.Coordinator], ClusterPort = clusterPort,
            SeedNodes = [ProcessCluster.SeedAddress(clusterPort)], DatabasePath = Path.Combine(home, "lantern.db"),
        });
        await using var _ = coordinator.App;
        using var client = ExplainClient.Connect(LanternNode.GrpcAddress(coordinator.App));
        await OperationsNodes.WaitReadyAsync(coordinator.Http);

        var request = MultiProcessJobs.Request();
        var jobId = await MultiProcessJobs.SubmitAsync(client, request);
        // No worker yet: the job's offered window waits at the dispatcher.
        var pending = await OperationsNodes.ScrapeUntilAsync(coordinator.Http, text => PrometheusText.Sum(text, "lantern_work_items_pending") > 0);
        output.WriteLine($"queued with no worker: {PrometheusText.Sum(pending, "lantern_work_items_pending")} pending");
        Assert.Equal(1, PrometheusText.Sum(pending, "lantern_jobs")); // queued (its baseline item waits) or running
        Assert.Equal(0, PrometheusText.Sum(pending, "lantern_work_items_leased"));

        var worker = await OperationsNodes.StartAsync(new NodeOptions
        {
            Roles = [ClusterRoles.Worker], ClusterPort = ProcessCluster.FreePort(),
            SeedNodes = [ProcessCluster.SeedAddress(clusterPort)], CacheDirectory = Path.Combine(home, "cache"),
            DatabasePath = Path.Combine(home, "unused.db"),
        });
        await using var __ = worker.App;
        var final = await MultiProcessJobs.WaitDoneAsync(client, jobId, TimeSpan.FromMinutes(3));
        Assert.Equal(JobState.Done, final.State);

        // Drained, and the worker counted as up: the members gauge follows cluster events, and CI saw a short job finish
        // before the coordinator's gauge counted the worker up, so it is waited for, not read at once.
        var drained = await OperationsNodes.ScrapeUntilAsync(coordinator.Http, text =>
            PrometheusText.Sum(text, "lantern_work_items_pending") == 0 && PrometheusText.Sum(text, "lantern_work_items_leased") == 0
            && PrometheusText.Sum(text, "lantern_cluster_members", "role=\"worker\"", "status=\"up\"") == 1);
        Assert.Equal(1, PrometheusText.Sum(drained, "lantern_jobs_finished_total", "state=\"done\""));
        Assert.Equal(0, PrometheusText.Sum(drained, "lantern_jobs"));
        Assert.Equal(1, PrometheusText.Sum(drained, "lantern_cluster_members", "role=\"worker\"", "status=\"up\""));
        Assert.Equal(1, PrometheusText.Sum(drained, "lantern_cluster_members", "role=\"coordinator\"", "status=\"up\""));

        var workerText = await OperationsNodes.Http1(worker.Http).GetStringAsync("/metrics");
        // The baseline plus every window, evaluated by the one worker.
        Assert.Equal(MultiProcessJobs.Evaluations(request) + 1, PrometheusText.Sum(workerText, "lantern_worker_evaluations_total"));
        Assert.Equal(1, PrometheusText.Sum(workerText, "lantern_worker_execution_provider", "provider=\"cpu\""));
        Assert.True(PrometheusText.Sum(workerText, "lantern_worker_batch_seconds_count") > 0, workerText);
        // Where the worker's time in items went: the model's runs and writing the windows' inputs, both inside its busy time.
        var busy = PrometheusText.Sum(workerText, "lantern_worker_busy_seconds_total");
        var running = PrometheusText.Sum(workerText, "lantern_worker_batch_seconds_sum");
        var writing = PrometheusText.Sum(workerText, "lantern_worker_input_seconds_total");
        Assert.True(running > 0 && writing > 0 && running + writing <= busy, workerText);
    }

    [Fact]
    public async Task Readyz_is_not_ready_before_the_node_joins_nor_after_it_leaves_and_grpc_health_agrees()
    {
        var clusterPort = ProcessCluster.FreePort();
        var home = Directory.CreateTempSubdirectory("lantern-endpoints-").FullName;
        // Its only seed is an address nobody listens on: it starts, serves HTTP, and does not join.
        var node = await OperationsNodes.StartAsync(new NodeOptions
        {
            ClusterPort = clusterPort, SeedNodes = [ProcessCluster.SeedAddress(ProcessCluster.FreePort())],
            DatabasePath = Path.Combine(home, "lantern.db"), CacheDirectory = Path.Combine(home, "cache"),
        });
        await using var _ = node.App;
        var http = OperationsNodes.Http1(node.Http);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        var notJoined = await http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notJoined.StatusCode);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing, await OperationsNodes.GrpcHealthAsync(node.App));

        var cluster = Akka.Cluster.Cluster.Get(node.App.Services.GetRequiredService<ActorSystem>());
        cluster.Join(cluster.SelfAddress);
        await OperationsNodes.WaitReadyAsync(node.Http);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, await OperationsNodes.GrpcHealthAsync(node.App));

        // Leaving: the node still answers HTTP until its actor system stops, and says it is not ready.
        var leaving = cluster.LeaveAsync();
        await OperationsNodes.WaitUntilAsync(async () => (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable);
        await leaving.WaitAsync(Patience);
    }
}
