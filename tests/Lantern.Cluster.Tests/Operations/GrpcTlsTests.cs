using Grpc.Core;
using Lantern.Cli;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.MultiProcess;
using Lantern.Host;
using Lantern.Host.Security;
using JobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Operations;

/// <summary><c>serve --tls-cert/--tls-key</c>: the gRPC port speaks TLS with certificates from <c>lantern certs</c>.</summary>
[Collection(MultiProcessCollection.Name)]
public sealed class GrpcTlsTests
{
    [Fact]
    public async Task A_client_trusting_the_CA_gets_a_result_while_plain_text_and_untrusting_clients_are_refused()
    {
        var home = Directory.CreateTempSubdirectory("lantern-grpc-tls-").FullName;
        var certs = Path.Combine(home, "certs");
        Assert.Equal(0, await LanternCli.RunAsync(["certs", "--out", certs, "--name", "gateway"]));

        var node = await OperationsNodes.StartAsync(new NodeOptions
        {
            DatabasePath = Path.Combine(home, "lantern.db"), CacheDirectory = Path.Combine(home, "cache"),
            GrpcTls = new GrpcTlsOptions { CertificatePath = Path.Combine(certs, "gateway.pem"), KeyPath = Path.Combine(certs, "gateway.key") },
        });
        await using var _ = node.App;
        var address = LanternNode.GrpcAddress(node.App);
        Assert.Equal("https", address.Scheme);

        // Refused either way; a client-streaming upload may see the dropped connection as the call's status (RpcException)
        // or, when its write is the first to notice, as the HTTP/2 stream's IOException.
        using (var plain = ExplainClient.Connect(new UriBuilder(address) { Scheme = "http" }.Uri))
            await AssertRefusedAsync(() => MultiProcessJobs.SubmitAsync(plain, MultiProcessJobs.Request()));
        using (var untrusting = ExplainClient.Connect(address))
            await AssertRefusedAsync(() => MultiProcessJobs.SubmitAsync(untrusting, MultiProcessJobs.Request()));

        using var client = ExplainClient.Connect(address, caCertificate: Path.Combine(certs, "ca.pem"));
        var jobId = await MultiProcessJobs.SubmitAsync(client, MultiProcessJobs.Request());
        Assert.Equal(JobState.Done, (await MultiProcessJobs.WaitDoneAsync(client, jobId, TimeSpan.FromMinutes(2))).State);

        // The viewer reads the job through the node's own (now TLS) gRPC port.
        var page = await OperationsNodes.Http1(node.Http).GetAsync($"/viewer/jobs/{jobId}");
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(jobId, await page.Content.ReadAsStringAsync());
    }

    private static async Task AssertRefusedAsync(Func<Task> call)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(call);
        Assert.True(error is RpcException or IOException, $"expected the call refused, got {error}");
    }
}
