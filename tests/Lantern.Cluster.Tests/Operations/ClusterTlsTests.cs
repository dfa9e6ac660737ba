using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.MultiProcess;
using Lantern.Contracts.Cluster;
using Lantern.Host;
using Lantern.Host.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Operations;

/// <summary>
/// Mutual TLS on the cluster port: a worker with no certificate, or with one from another CA, is refused by the
/// cluster, while a worker with a certificate from the cluster's CA joins and runs a job.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class ClusterTlsTests
{
    [Fact]
    public async Task Workers_without_a_certificate_from_the_cluster_CA_never_join_while_one_with_it_joins_and_works()
    {
        var home = Directory.CreateTempSubdirectory("lantern-cluster-tls-").FullName;
        using var clusterCa = ClusterCertificates.CreateAuthority("Lantern test CA", TimeSpan.FromDays(1));
        using var otherCa = ClusterCertificates.CreateAuthority("Someone else's CA", TimeSpan.FromDays(1));
        var trustCluster = WritePem(home, "ca.pem", clusterCa);
        // The intruder knows the cluster CA's certificate (it is not secret) and trusts it, so only the cluster refuses.
        var trustBoth = WritePem(home, "both.pem", clusterCa, otherCa);
        var coordinatorTls = Tls(home, "coordinator", clusterCa, trustCluster);

        var coordinator = await OperationsNodes.StartAsync(new NodeOptions
        {
            Roles = [ClusterRoles.Gateway, ClusterRoles.Coordinator], ClusterPort = ProcessCluster.FreePort(),
            DatabasePath = Path.Combine(home, "lantern.db"), ClusterTls = coordinatorTls,
        });
        await using var _ = coordinator.App;
        await OperationsNodes.WaitReadyAsync(coordinator.Http);
        var system = coordinator.App.Services.GetRequiredService<ActorSystem>();
        var seen = new ConcurrentQueue<Address>();
        system.ActorOf(Props.Create(() => new MemberRecorder(seen)));
        var seed = LanternNode.ClusterAddress(coordinator.App);
        Assert.StartsWith("akka.ssl.tcp://", seed);

        // The refused: plain TCP to the cluster port, and TLS with a certificate the cluster's CA did not sign.
        var plain = await StartWorkerAsync(home, "plain", seed.Replace("akka.ssl.tcp://", "akka.tcp://"), tls: null);
        await using var __ = plain.App;
        var foreign = await StartWorkerAsync(home, "foreign", seed, Tls(home, "foreign", otherCa, trustBoth));
        await using var ___ = foreign.App;
        var good = await StartWorkerAsync(home, "good", seed, Tls(home, "good", clusterCa, trustCluster));
        await using var ____ = good.App;

        // The event waited for is the good worker's join; the refused ones tried from before it started.
        await OperationsNodes.WaitReadyAsync(good.Http);
        using var client = ExplainClient.Connect(LanternNode.GrpcAddress(coordinator.App));
        var request = MultiProcessJobs.Request(window: 8, stride: 4);
        var final = await MultiProcessJobs.WaitDoneAsync(client, await MultiProcessJobs.SubmitAsync(client, request), TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Done, final.State);

        var goodAddress = Akka.Cluster.Cluster.Get(good.App.Services.GetRequiredService<ActorSystem>()).SelfAddress;
        var members = Akka.Cluster.Cluster.Get(system).State.Members.Select(m => m.Address).ToHashSet();
        Assert.Equal(new[] { Akka.Cluster.Cluster.Get(system).SelfAddress, goodAddress }.OrderBy(a => a.Port), members.OrderBy(a => a.Port));
        Assert.All(seen, address => Assert.Contains(address, members));
        foreach (var refused in new[] { plain, foreign })
        {
            var cluster = Akka.Cluster.Cluster.Get(refused.App.Services.GetRequiredService<ActorSystem>());
            Assert.DoesNotContain(cluster.State.Members, m => m.Address != cluster.SelfAddress);
            Assert.NotEqual(MemberStatus.Up, cluster.SelfMember.Status);
            var metrics = await OperationsNodes.Http1(refused.Http).GetStringAsync("/metrics");
            Assert.Equal(0, PrometheusText.Sum(metrics, "lantern_worker_evaluations_total") ?? 0);
        }
        Assert.True(PrometheusText.Sum(await OperationsNodes.Http1(good.Http).GetStringAsync("/metrics"), "lantern_worker_evaluations_total") > 0);
    }

    private static Task<OperationsNodes.Node> StartWorkerAsync(string home, string name, string seed, ClusterTlsOptions? tls) =>
        OperationsNodes.StartAsync(new NodeOptions
        {
            Roles = [ClusterRoles.Worker], ClusterPort = ProcessCluster.FreePort(), SeedNodes = [seed], ClusterTls = tls,
            CacheDirectory = Path.Combine(home, name, "cache"), DatabasePath = Path.Combine(home, name, "unused.db"),
        });

    private static ClusterTlsOptions Tls(string home, string name, X509Certificate2 authority, string trusted)
    {
        using var node = ClusterCertificates.CreateSigned(authority, name, ["127.0.0.1"], TimeSpan.FromDays(1));
        var path = Path.Combine(home, $"{name}.pfx");
        File.WriteAllBytes(path, ClusterCertificates.ExportPfx(node, authority, "secret"));
        return new ClusterTlsOptions { CertificatePath = path, Password = "secret", AuthorityPath = trusted };
    }

    private static string WritePem(string home, string name, params X509Certificate2[] certificates)
    {
        var path = Path.Combine(home, name);
        File.WriteAllText(path, string.Concat(certificates.Select(ClusterCertificates.CertificatePem)));
        return path;
    }

    /// <summary>Every member the coordinator ever saw join or change status, from before the workers start.</summary>
    private sealed class MemberRecorder : ReceiveActor
    {
        public MemberRecorder(ConcurrentQueue<Address> seen)
        {
            Receive<ClusterEvent.IMemberEvent>(e => seen.Enqueue(e.Member.Address));
            Receive<ClusterEvent.CurrentClusterState>(s => { foreach (var m in s.Members) seen.Enqueue(m.Address); });
        }

        protected override void PreStart() =>
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
                typeof(ClusterEvent.IMemberEvent));
    }
}
