using System.Net;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.MultiProcess;
using Lantern.Contracts.Cluster;
using Lantern.Host;
using Lantern.Host.Formation;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Operations;

/// <summary>
/// Cluster formation through Akka.Management Cluster Bootstrap on config discovery, the code path Kubernetes runs with
/// Kubernetes API discovery: no node is given a seed; the coordinator is the only contact point.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class ClusterBootstrapTests
{
    [Fact]
    public async Task A_worker_bootstrapped_before_any_contact_point_is_up_waits_then_joins_and_runs_a_job()
    {
        var home = Directory.CreateTempSubdirectory("lantern-bootstrap-").FullName;
        var contactPoint = ProcessCluster.FreePort();
        var bootstrap = new BootstrapOptions { Discovery = DiscoveryMethod.Config, ContactPoints = [$"127.0.0.1:{contactPoint}"] };

        // The worker is not a contact point, so it never forms a cluster of its own: it waits for one to join.
        var worker = await OperationsNodes.StartAsync(new NodeOptions
        {
            Roles = [ClusterRoles.Worker], ClusterPort = ProcessCluster.FreePort(), Bootstrap = bootstrap,
            CacheDirectory = Path.Combine(home, "cache"), DatabasePath = Path.Combine(home, "unused.db"),
        });
        await using var _ = worker.App;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await OperationsNodes.Http1(worker.Http).GetAsync("/readyz")).StatusCode);

        // The contact point: the lowest (only) address among the contact points forms the cluster; the worker joins it.
        var coordinator = await OperationsNodes.StartAsync(new NodeOptions
        {
            Roles = [ClusterRoles.Gateway, ClusterRoles.Coordinator], ClusterPort = ProcessCluster.FreePort(),
            Bootstrap = bootstrap, HttpPort = contactPoint, DatabasePath = Path.Combine(home, "lantern.db"),
        });
        await using var __ = coordinator.App;
        await OperationsNodes.WaitReadyAsync(coordinator.Http);
        await OperationsNodes.WaitReadyAsync(worker.Http);

        using var client = ExplainClient.Connect(LanternNode.GrpcAddress(coordinator.App));
        var request = MultiProcessJobs.Request(window: 8, stride: 4);
        var jobId = await MultiProcessJobs.SubmitAsync(client, request);
        var final = await MultiProcessJobs.WaitDoneAsync(client, jobId, TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Done, final.State);
        var workerText = await OperationsNodes.Http1(worker.Http).GetStringAsync("/metrics");
        Assert.Equal(MultiProcessJobs.Evaluations(request) + 1, PrometheusText.Sum(workerText, "lantern_worker_evaluations_total"));
    }
}
